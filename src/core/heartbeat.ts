import type { Connection } from "./connection.ts";

/**
 * The server's heartbeat for runtimes that let it ping (`ws`, Bun): every `idleTimeout / 2`
 * seconds, a connection that received nothing (no message, no pong) since the last round is
 * terminated, the others are pinged. A peer that answers no pings is gone within `idleTimeout`.
 * One timer per distinct `idleTimeout`, running only while it has connections.
 */
class HeartbeatGroup {
  readonly #connections = new Set<Connection>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly idleTimeout: number) {}

  add(connection: Connection): void {
    this.#connections.add(connection);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#beat(), (this.idleTimeout * 1000) / 2);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  delete(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) {
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#timer = undefined;
      groups.delete(this.idleTimeout);
    }
  }

  #beat(): void {
    for (const connection of this.#connections) {
      if (!connection.alive) {
        connection.terminate();
        continue;
      }
      connection.alive = false;
      try {
        connection.transport?.ping?.();
      } catch {
        // the socket is closing; its close event removes it
      }
    }
  }
}

const groups = new Map<number, HeartbeatGroup>();

/** Starts the heartbeat for an open connection whose transport can ping. */
export function watchHeartbeat(connection: Connection): void {
  const seconds = connection.limits.idleTimeout;
  let group = groups.get(seconds);
  if (!group) groups.set(seconds, group = new HeartbeatGroup(seconds));
  group.add(connection);
}

/** Stops the heartbeat of a closed connection. */
export function unwatchHeartbeat(connection: Connection): void {
  groups.get(connection.limits.idleTimeout)?.delete(connection);
}
