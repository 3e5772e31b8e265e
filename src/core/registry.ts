import type { Connection } from "./connection.ts";

/**
 * The open connections of one server: what shutdown, connection limits and in-process
 * pub/sub walk. A connection joins when it opens and leaves once its `onClose` has run.
 */
export class ConnectionRegistry implements Iterable<Connection> {
  readonly #open = new Set<Connection>();

  /** How many connections are open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Adds a connection that has opened. */
  add(connection: Connection): void {
    this.#open.add(connection);
  }

  /** Removes a connection once its `onClose` has run. */
  delete(connection: Connection): void {
    this.#open.delete(connection);
  }

  /** The open connections, in the order they opened. */
  [Symbol.iterator](): IterableIterator<Connection> {
    return this.#open.values();
  }
}
