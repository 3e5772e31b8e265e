/**
 * The channels one process wants from Redis, and the batching of their changes: joins and leaves
 * within one window become one `SUBSCRIBE` and one `UNSUBSCRIBE` (per slot group on a cluster),
 * however many connections caused them.
 * @module
 */

/** Applies one batch of changes; rejects if Redis could not take them (they are retried on `retry()`). */
export type ApplyChanges = (subscribe: string[], unsubscribe: string[]) => Promise<void>;

/** The wanted channels of one process and the changes not yet sent. */
export class Subscriptions {
  readonly #wanted = new Set<string>();
  readonly #changed = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The last batch sent: Redis answers batches in order. */
  #applied: Promise<void> = Promise.resolve();

  /** `window` ms: how long changes are collected before they are sent together. */
  constructor(readonly apply: ApplyChanges, readonly window: number) {}

  /** Wants `channel`; nothing changes if it is wanted already. */
  add(channel: string): void {
    if (this.#wanted.has(channel)) return;
    this.#wanted.add(channel);
    this.#mark(channel);
  }

  /** No longer wants `channel`; nothing changes if it was not wanted. */
  delete(channel: string): void {
    if (!this.#wanted.delete(channel)) return;
    this.#mark(channel);
  }

  /**
   * Sends every wanted channel again, e.g. after a reconnection: the client skips those it still
   * has, so only lost subscriptions cost a command.
   */
  retry(): void {
    for (const channel of this.#wanted) this.#mark(channel);
  }

  /** Sends the changes now; resolves once Redis has applied them, and every batch sent before. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#changed.size > 0 ? this.#flush() : this.#applied;
  }

  /** Forgets what is not sent yet. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#changed.clear();
  }

  #mark(channel: string): void {
    this.#changed.add(channel);
    this.#timer ??= setTimeout(() => void this.#flush(), this.window);
  }

  #flush(): Promise<void> {
    this.#timer = undefined;
    const subscribe: string[] = [];
    const unsubscribe: string[] = [];
    for (const channel of this.#changed) (this.#wanted.has(channel) ? subscribe : unsubscribe).push(channel);
    this.#changed.clear();
    const applied = this.#applied = this.apply(subscribe, unsubscribe);
    // A failed batch waits for `retry()` (the next reconnection); a failed unsubscribe is retried with it.
    applied.catch(() => {
      for (const channel of unsubscribe) if (!this.#wanted.has(channel)) this.#changed.add(channel);
    });
    return applied;
  }
}
