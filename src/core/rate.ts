/**
 * Counts a socket's messages in one-second windows; a message past `perSecond` within the
 * current window is over the limit.
 */
export class MessageRate {
  #windowStart = 0;
  #count = 0;

  constructor(readonly perSecond: number) {}

  /** Counts one message at `now` (ms); true when it exceeds the limit. */
  exceeded(now: number = Date.now()): boolean {
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#count = 0;
    }
    return ++this.#count > this.perSecond;
  }
}
