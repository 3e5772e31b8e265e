import type { Limits } from "./options.ts";

/**
 * Where a watched object keeps its place in its heartbeat's list (`-1`: not watched), so that watching a
 * connection costs a slot in an array rather than an entry in a `Map` (about 120 B per connection on Bun). Written
 * by the heartbeat only; a class whose objects are watched starts it at `-1`, so that they keep one shape.
 */
export const HEARTBEAT_SLOT: unique symbol = Symbol("edgesocket.heartbeatSlot");

/** What the heartbeat watches: a connection, or one socket of a resumable session; by one heartbeat at a time. */
export interface Watched {
  /** See {@link HEARTBEAT_SLOT}. */
  [HEARTBEAT_SLOT]?: number;
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
  /** The watched, each at its {@link HEARTBEAT_SLOT}. */
  readonly #members: Watched[] = [];
  /** Each member's `heard` count at the last round, at the member's index. */
  readonly #heardAtLastRound: number[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly idleTimeout: number, readonly onEmpty: () => void) {}

  add(connection: Watched): void {
    if (this.#slotOf(connection) !== undefined) return;
    // Its one slot cannot hold two places: a second group would overwrite the first's, which then never drops it.
    if ((connection[HEARTBEAT_SLOT] ?? -1) >= 0) throw new Error("edgesocket: already watched by another heartbeat");
    connection[HEARTBEAT_SLOT] = this.#members.length;
    this.#members.push(connection);
    this.#heardAtLastRound.push(NOT_YET_CHECKED);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#beat(), (this.idleTimeout * 1000) / 2);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  delete(connection: Watched): void {
    const slot = this.#slotOf(connection);
    if (slot === undefined) return;
    // The last member takes the slot that frees up.
    const last = this.#members.length - 1;
    const moved = this.#members[last]!;
    this.#members[slot] = moved;
    this.#heardAtLastRound[slot] = this.#heardAtLastRound[last]!;
    moved[HEARTBEAT_SLOT] = slot;
    this.#members.pop();
    this.#heardAtLastRound.pop();
    connection[HEARTBEAT_SLOT] = -1;
    if (this.#members.length > 0) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.onEmpty();
  }

  /** The member's index, if it is one of this group's. */
  #slotOf(connection: Watched): number | undefined {
    const slot = connection[HEARTBEAT_SLOT];
    // A member that left has slot -1: tested before indexing, since a negative index is a named-property lookup on V8.
    return slot !== undefined && slot >= 0 && this.#members[slot] === connection ? slot : undefined;
  }

  #beat(): void {
    // Over a copy: a member terminated here may leave at once, and others with it (its close and `onClose` run
    // synchronously on some runtimes), which moves members between slots.
    for (const connection of this.#members.slice()) {
      const slot = this.#slotOf(connection);
      if (slot === undefined) continue; // it left during this round
      const heard = connection.heard;
      if (heard === this.#heardAtLastRound[slot]) {
        connection.terminate();
        continue;
      }
      this.#heardAtLastRound[slot] = heard;
      connection.ping();
    }
  }
}
