/**
 * A run's results and their summary: per server the median of each figure over its rounds, and the paired
 * comparisons with the other servers of its runtime.
 * @module
 */
import type { ScenarioResult } from "./load-client.ts";
import { ALL_METRICS, type ScenarioName, type ScenarioParams, type ScenarioRun } from "./scenarios.ts";
import { type Kind, parseServerName, SERVERS_BY_RUNTIME } from "./servers.ts";
import { paired, ratio, type Spread, spread } from "./stats.ts";

/** One server's runs, by scenario and round (a missing round: the scenario did not run on it). */
export interface ServerResults {
  runs: Partial<Record<ScenarioName, (ScenarioRun | undefined)[]>>;
  /** Why it did not start. */
  error?: string;
}

/** One server's figures: medians over the rounds and paired comparisons with the others of its runtime. */
export interface ServerSummary {
  medians: Record<string, Spread | undefined>;
  /** CPU in cores during the throughput window: the server's, the client's, everything else's. */
  cpu: { server?: Spread; client?: Spread; other?: Spread };
  verified: { echoes: number; ok: boolean };
  failures: string[];
  error?: string;
  /**
   * Against each other server of the same runtime (by kind), round by round: ratios oriented so that above 1 is
   * better, or for idle memory this server's bytes minus the other's.
   */
  vs: Partial<Record<Kind, Record<string, Spread | undefined>>>;
}

/** What a run of a set of servers gives: latest.json's content but the broadcast note, and resume.json's. */
export interface RunReport {
  mode: string;
  machine: Record<string, string | number | undefined>;
  params: Partial<Record<ScenarioName, ScenarioParams>>;
  names: string[];
  skipped: Record<string, string>;
  results: Record<string, ServerResults>;
  summary: Record<string, ServerSummary>;
  wallSeconds: number;
}

/** What a run writes to latest.json. */
export interface Report extends RunReport {
  broadcast: { servers: readonly string[]; note: string };
}

const ok = (run: ScenarioRun | undefined): run is ScenarioResult => run !== undefined && !("failed" in run);

function readings(results: ServerResults, scenario: ScenarioName, read: (r: ScenarioResult) => number | undefined) {
  return (results.runs[scenario] ?? []).map((run) => (ok(run) ? read(run) : undefined));
}

function verification(results: ServerResults): Pick<ServerSummary, "verified" | "failures"> {
  const verified = { echoes: 0, ok: Object.keys(results.runs).length > 0 };
  const failed = new Map<string, number>(); // "scenario: what failed" → rounds
  for (const [scenario, runs] of Object.entries(results.runs)) {
    for (const run of runs ?? []) {
      if (!run) continue;
      verified.echoes += run.verified?.received ?? 0;
      if (!ok(run)) {
        verified.ok = false;
        const what = `${scenario}: ${run.failed.replace(/: \{.*$/, "")}`; // without the counts
        failed.set(what, (failed.get(what) ?? 0) + 1);
      }
    }
  }
  return { verified, failures: [...failed].map(([what, count]) => `${what} (${count}×)`) };
}

/** Every figure of `name` against `base`, round by round. */
function comparison(name: ServerResults, base: ServerResults): Record<string, Spread | undefined> {
  const out: Record<string, Spread | undefined> = {};
  for (const m of ALL_METRICS) {
    out[m.key] = paired(
      readings(name, m.scenario, m.read),
      readings(base, m.scenario, m.read),
      (value, baseValue) => m.difference ? value - baseValue : ratio(value, baseValue, m.higher),
    );
  }
  return out;
}

/**
 * The summary of every server that ran, each compared with the servers of its runtime of the kinds `others(name)`
 * that ran too (by default those of {@link SERVERS_BY_RUNTIME}).
 */
export function summarize(
  results: Record<string, ServerResults>,
  names: readonly string[],
  others: (name: string) => readonly Kind[] = (name) => SERVERS_BY_RUNTIME[parseServerName(name).runtime],
) {
  const summary: Record<string, ServerSummary> = {};
  for (const name of names) {
    const r = results[name]!;
    const medians = Object.fromEntries(ALL_METRICS.map((m) => [m.key, spread(readings(r, m.scenario, m.read))]));
    const cpu = (key: string) => spread(readings(r, "throughput", (run) => run[key] as number | undefined));
    const { runtime } = parseServerName(name);
    const vs: ServerSummary["vs"] = {};
    for (const kind of others(name)) {
      const other = `${runtime}-${kind}`;
      if (other !== name && results[other] && names.includes(other)) vs[kind] = comparison(r, results[other]);
    }
    summary[name] = {
      medians,
      cpu: { server: cpu("serverCpu"), client: cpu("clientCpu"), other: cpu("otherCpu") },
      ...verification(r),
      error: r.error,
      vs,
    };
  }
  return summary;
}
