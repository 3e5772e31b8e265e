/**
 * The delay before each reconnection attempt: exponential growth from `minDelay`, capped at `maxDelay`,
 * with random jitter so that clients dropped together do not come back together.
 * @module
 */

/** The options that shape the delays. */
export interface BackoffOptions {
  /** The first delay, in ms, before jitter. */
  readonly minDelay: number;
  /** No delay is longer, jitter included. */
  readonly maxDelay: number;
  /** Each step multiplies the delay by this. */
  readonly growFactor: number;
  /** The delay is stretched by up to this fraction of itself, at random (0 = no jitter). */
  readonly jitter: number;
}

/**
 * The delay in ms after `step` steps of backoff (1 = the first retry):
 * `min(maxDelay, minDelay × growFactor^(step − 1) × (1 + jitter × random()))`.
 */
export function retryDelay(step: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { minDelay, maxDelay, growFactor, jitter } = options;
  const base = minDelay * growFactor ** Math.max(0, step - 1);
  return Math.round(Math.min(maxDelay, base * (1 + jitter * random())));
}
