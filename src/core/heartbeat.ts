import type { Limits } from "./options.ts";

/** What the heartbeat watches: a connection, or one socket of a resumable session. */
export interface Watched {
  /** Its route's limits (`idleTimeout`). */
  readonly limits: Limits;
  /** How many times the peer was heard from: messages and pongs. */
  readonly heard: number;
  /** Sends a ping. */
  ping(): void;
  /** Drops the socket without a closing handshake. */
  terminate(): void;
}

/**
 * The heartbeat of one server, for runtimes that let it ping (`ws`, Bun): every `idleTimeout / 2`
 * seconds, a connection that heard nothing from its peer (no message, no pong) since the last round is
 * terminated, the others are pinged. A peer that answers no pings is gone within `idleTimeout`.
 * One timer per distinct `idleTimeout`, running only while it has connections.
 */
export class Heartbeat {
  readonly #groups = new Map<number, HeartbeatGroup>();

  /** Starts watching an open connection whose transport can ping. */
  watch(connection: Watched): void {
    const seconds = connection.limits.idleTimeout;
    let group = this.#groups.get(seconds);
    if (!group) this.#groups.set(seconds, group = new HeartbeatGroup(seconds, () => this.#groups.delete(seconds)));
    group.add(connection);
  }

  /** Stops watching a closed connection. */
  unwatch(connection: Watched): void {
    this.#groups.get(connection.limits.idleTimeout)?.delete(connection);
  }

  /** How many distinct `idleTimeout` timers run now. */
  get timers(): number {
    return this.#groups.size;
  }
}

/** Before a connection's first round: it counts as alive, so that it is pinged before it can be dropped. */
const NOT_YET_CHECKED = -1;

class HeartbeatGroup {
  /** Each connection's `heard` count at the last round. */
  readonly #heardAtLastRound = new Map<Watched, number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly idleTimeout: number, readonly onEmpty: () => void) {}

  add(connection: Watched): void {
    this.#heardAtLastRound.set(connection, NOT_YET_CHECKED);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#beat(), (this.idleTimeout * 1000) / 2);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  delete(connection: Watched): void {
    this.#heardAtLastRound.delete(connection);
    if (this.#heardAtLastRound.size > 0) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.onEmpty();
  }

  #beat(): void {
    for (const [connection, heardBefore] of this.#heardAtLastRound) {
      const heard = connection.heard;
      if (heard === heardBefore) {
        connection.terminate();
        continue;
      }
      this.#heardAtLastRound.set(connection, heard);
      connection.ping();
    }
  }
}
