/** How often `drained()` re-reads the send buffer while waiting, for runtimes without a drain event. */
const DRAIN_POLL_MS = 10;

/**
 * The pending `drained()` calls of one connection. They resolve together once `hasRoom` holds,
 * checked on the adapter's drain event (Bun) and every {@link DRAIN_POLL_MS} ms (Deno, `ws`),
 * or when the connection stops being open. Created only when a handler first waits.
 */
export class DrainWatch {
  #waiters: (() => void)[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly hasRoom: () => boolean) {}

  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#timer ??= setInterval(() => this.check(), DRAIN_POLL_MS);
    });
  }

  /** Resolves the waiters if there is room now. */
  check(): void {
    if (this.#waiters.length > 0 && this.hasRoom()) this.release();
  }

  /** Resolves every waiter: there is room, or the connection is no longer open. */
  release(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
