/**
 * The statistics of the bench: medians, spreads, and ratios of paired runs.
 * @module
 */

/** A median with the range it came from and how many values it had. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

function finite(values: readonly (number | undefined)[]): number[] {
  return values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
}

/** The median of the finite values, or undefined if there are none. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  return spread(values)?.median;
}

/** Median, min and max of the finite values, or undefined if there are none. */
export function spread(values: readonly (number | undefined)[]): Spread | undefined {
  const sorted = finite(values);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** The `p`-th percentile (0–100) of ascending `sorted` values, NaN if empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** How `value` compares with `base`, oriented so that above 1 is better whichever way the metric goes. */
export function ratio(value: number | undefined, base: number | undefined, higherIsBetter: boolean) {
  if (value === undefined || base === undefined || value === 0 || base === 0) return undefined;
  return higherIsBetter ? value / base : base / value;
}

/**
 * The comparison of two servers measured in alternation: `compare` on each pair of runs with the same round
 * (run close together in time, so the machine's drifts, ±30 % here, cancel), then the median and range.
 */
export function paired<T>(
  runs: readonly (T | undefined)[],
  baseRuns: readonly (T | undefined)[],
  compare: (run: T, base: T) => number | undefined,
): Spread | undefined {
  const values: (number | undefined)[] = [];
  runs.forEach((run, round) => {
    const base = baseRuns[round];
    if (run !== undefined && base !== undefined) values.push(compare(run, base));
  });
  return spread(values);
}
