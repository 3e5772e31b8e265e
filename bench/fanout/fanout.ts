/**
 * The fan-out benchmark (issue 14): for each system under test, a fresh `redis-server`, two server
 * processes of one runtime behind it, and the load client of load.ts; then deliveries per second,
 * publish-to-deliver p50/p99 and every delivery checked. Entry: {@link runFanout}.
 *
 * Pinning (the machine has 2 cores): both server processes on CPU 0, Redis and the load client on
 * CPU 1, so that every system gets the same share, and the server CPU time per delivery
 * (`/proc/<pid>/stat`) can be compared even when the load client is the limit.
 * @module
 */
import { createClient } from "@redis/client";
import { spawn, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { createInterface } from "node:readline";
import { type RunningRedis, startRedis } from "../../test/helpers/redis.ts";
import { ROOT, type RunningServer, startServer } from "../../test/helpers/runtimes.ts";
import { findTools, machineInfo } from "../machine.ts";
import { cpuSeconds } from "../proc.ts";
import { median, paired } from "../stats.ts";
import type { LoadConfig, LoadResult, Phase } from "./load.ts";
import type { ServerKind } from "./wire.ts";

/** The runtimes that have a backplane. */
export type BackplaneRuntime = "node" | "bun" | "deno";

/** Options of {@link runFanout}. */
export interface FanoutOptions {
  /** 200 subscribers over 20 rooms, short phases: a check that everything runs, not a measurement. */
  quick: boolean;
  /** Which of `node`, `bun`, `deno` to run edgesocket and crossws on; Socket.IO (Node only) always runs. */
  runtimes: string[];
  /** Which servers to run (default all): `edgesocket`, `socketio`, `crossws`. */
  kinds?: ServerKind[];
  /** Publications in flight per publisher (default 16): more loads the servers harder, and lengthens every delivery's wait. */
  inflight?: number;
  /** Rounds, every system once per round in a rotating order; medians are reported. Default 1. */
  rounds?: number;
  /** Prints progress lines here. Default: nothing. */
  log?: (line: string) => void;
}

/** One system under test. */
export interface FanoutSystem {
  kind: ServerKind;
  runtime: BackplaneRuntime;
  /** The server entry, relative to the repository root. */
  entry: string;
}

/** One run of one system. */
export interface FanoutRun extends LoadResult {
  /** The round it was measured in, from 0. */
  round: number;
  /** CPU time of both server processes per delivery in the saturation window, µs. */
  serverMicrosPerDelivery: number;
  /** CPU time of both server processes over the saturation window, as a fraction of their one core. */
  serverCoreBusy: number;
}

/** The medians of one system over the rounds, with every run kept. */
export interface FanoutRow {
  system: FanoutSystem;
  runs: FanoutRun[];
  /** Why runs failed, if some did. */
  errors: string[];
  /** Deliveries per second with every publisher at `inflight` publications under way. */
  deliveriesPerSecond: number;
  /** Latency at saturation, ms: mostly the wait behind the publications under way. */
  saturatedP99Ms: number;
  /** Latency at the fixed rate, ms. */
  p50Ms: number;
  p99Ms: number;
  serverMicrosPerDelivery: number;
  serverCoreBusy: number;
  /** The load client's share of its core in the saturation window. */
  clientCpu: number;
  /** Every delivery of every run arrived, once and in order. */
  checked: boolean;
}

/**
 * Issue 14's targets for one runtime: ≥ 1.5× Socket.IO's deliveries/s and a lower p99 (at the fixed rate).
 * Both compare runs of the same round (minutes apart at most), then take the median over the rounds.
 */
export interface FanoutTarget {
  runtime: BackplaneRuntime;
  /** edgesocket's deliveries/s over Socket.IO's. */
  ratio: number;
  /** edgesocket's p99 at the fixed rate over Socket.IO's. */
  p99Ratio: number;
  /** Socket.IO's server CPU time per delivery over edgesocket's: the ratio of deliveries/s had both a whole core. */
  cpuRatio: number;
  throughputMet: boolean;
  p99Met: boolean;
}

/** Everything {@link runFanout} measured. */
export interface FanoutReport {
  mode: "quick" | "full";
  date: string;
  /** bench/machine.ts's description (versions, CPU), with the load average at the end of the run. */
  machine: Record<string, string | number | undefined>;
  settings: Omit<LoadConfig, "kind" | "servers"> & { rounds: number; pinning: string };
  rows: FanoutRow[];
  targets: FanoutTarget[];
}

const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const PINNING = `Both servers on CPU ${SERVER_CPU}; Redis and the load client on CPU ${CLIENT_CPU}`;
/** The load client's own phases are bounded; this is on top of warm-up and window. */
const CLIENT_SLACK_MS = 150_000;

const MODES = {
  quick: { rooms: 20, subscribers: 200, inflight: 16, rate: 100, warmupMs: 1000, measureMs: 2000 },
  full: { rooms: 100, subscribers: 2000, inflight: 16, rate: 300, warmupMs: 3000, measureMs: 10_000 },
};

/** Every system, in the order of the report. */
export const FANOUT_SYSTEMS: readonly FanoutSystem[] = [
  { kind: "edgesocket", runtime: "node", entry: "dist/bench/fanout/servers/edgesocket-node.js" },
  { kind: "edgesocket", runtime: "bun", entry: "bench/fanout/servers/edgesocket-bun.ts" },
  { kind: "edgesocket", runtime: "deno", entry: "bench/fanout/servers/edgesocket-deno.ts" },
  { kind: "socketio", runtime: "node", entry: "dist/bench/fanout/servers/socketio-node.js" },
  { kind: "crossws", runtime: "node", entry: "dist/bench/fanout/servers/crossws-node.js" },
  { kind: "crossws", runtime: "bun", entry: "bench/fanout/servers/crossws-bun.ts" },
  { kind: "crossws", runtime: "deno", entry: "bench/fanout/servers/crossws-deno.ts" },
];

/** Runs the fan-out benchmark; needs `redis-server`, `taskset` and a built `dist/bench/fanout`. */
export async function runFanout(options: FanoutOptions): Promise<FanoutReport> {
  const mode = options.quick ? "quick" : "full";
  const settings = { ...MODES[mode], inflight: options.inflight ?? MODES[mode].inflight };
  const rounds = options.rounds ?? 1;
  const log = options.log ?? (() => {});
  const kinds = options.kinds ?? ["edgesocket", "socketio", "crossws"];
  const systems = FANOUT_SYSTEMS.filter((system) =>
    kinds.includes(system.kind) && (system.kind === "socketio" || options.runtimes.includes(system.runtime))
  );
  const runs = new Map<FanoutSystem, FanoutRun[]>(systems.map((system) => [system, []]));
  const errors = new Map<FanoutSystem, string[]>(systems.map((system) => [system, []]));
  for (let round = 0; round < rounds; round++) {
    for (const system of rotate(systems, round)) {
      log(`round ${round + 1}/${rounds}: ${labelOf(system)}`);
      try {
        const run = { round, ...await runSystem(system, settings) };
        runs.get(system)!.push(run);
        log(
          `  ${Math.round(run.saturation.deliveriesPerSecond)} deliveries/s; at ${settings.rate} publications/s ` +
            `p50 ${run.fixedRate.p50Ms} ms, p99 ${run.fixedRate.p99Ms} ms`,
        );
      } catch (error) {
        errors.get(system)!.push(String(error));
        log(`  failed: ${String(error)}`);
      }
    }
  }
  const rows = systems.map((system) => summarize(system, runs.get(system)!, errors.get(system)!));
  return {
    mode,
    date: new Date().toISOString(),
    machine: {
      ...machineInfo(findTools()),
      client: "bench/fanout/load.ts on Node (ws)",
      pinning: PINNING,
      loadAverage: loadavg().map((load) => load.toFixed(1)).join(" "),
    },
    settings: { ...settings, rounds, pinning: PINNING },
    rows,
    targets: fanoutTargets(rows),
  };
}

/** `edgesocket (bun)` */
export function labelOf(system: FanoutSystem): string {
  return `${system.kind === "socketio" ? "Socket.IO" : system.kind} (${system.runtime})`;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function runSystem(system: FanoutSystem, settings: (typeof MODES)["full"]): Promise<Omit<FanoutRun, "round">> {
  const redis = await startRedis();
  const servers: RunningServer[] = [];
  try {
    pin(await redisPid(redis), CLIENT_CPU);
    for (let index = 0; index < 2; index++) {
      servers.push(
        await startServer(system.runtime, resolve(ROOT, system.entry), {
          cpu: SERVER_CPU,
          env: { REDIS_URL: redis.url },
        }),
      );
    }
    return await drive({ ...settings, kind: system.kind, servers: servers.map((server) => server.wsURL) }, servers);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
  }
}

async function redisPid(redis: RunningRedis): Promise<number> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const info = await client.info("server");
    return Number(/process_id:(\d+)/.exec(info)?.[1]);
  } finally {
    await client.close();
  }
}

/** Pins every thread of `pid` to `cpu`. */
function pin(pid: number, cpu: number): void {
  const result = spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`taskset failed for ${pid}: ${result.stderr || result.error}`);
}

/** Runs the load client pinned to the client CPU and samples the servers' CPU time over its saturation window. */
async function drive(config: LoadConfig, servers: RunningServer[]): Promise<Omit<FanoutRun, "round">> {
  const serverCpu = () => cpuSeconds(servers.map((server) => server.pid));
  const entry = resolve(ROOT, "dist/bench/fanout/load-main.js");
  const child = spawn("taskset", ["-c", String(CLIENT_CPU), process.execPath, entry, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let errors = "";
  child.stderr!.on("data", (chunk) => (errors += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 2 * (config.warmupMs + config.measureMs) + CLIENT_SLACK_MS);
  const window = { cpu: 0, start: 0, seconds: 0 };
  let result: LoadResult | undefined;
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      const { event, phase, ...rest } = JSON.parse(line) as { event: string; phase?: Phase };
      if (event === "result") result = rest as LoadResult;
      if (phase !== "saturation") continue;
      if (event === "window-start") Object.assign(window, { cpu: serverCpu(), start: performance.now() });
      if (event === "window-end") {
        Object.assign(window, { cpu: serverCpu() - window.cpu, seconds: (performance.now() - window.start) / 1000 });
      }
    }
  } finally {
    clearTimeout(timer);
  }
  if (!result) throw new Error(`the load client ended without a result:\n${errors}`);
  return {
    ...result,
    serverMicrosPerDelivery: (window.cpu * 1e6) / (result.saturation.deliveriesPerSecond * window.seconds),
    serverCoreBusy: window.cpu / window.seconds,
  };
}

function summarize(system: FanoutSystem, runs: FanoutRun[], errors: string[]): FanoutRow {
  const medianOf = (value: (run: FanoutRun) => number) => median(runs.map(value)) ?? NaN;
  return {
    system,
    runs,
    errors,
    deliveriesPerSecond: medianOf((run) => run.saturation.deliveriesPerSecond),
    saturatedP99Ms: medianOf((run) => run.saturation.p99Ms),
    p50Ms: medianOf((run) => run.fixedRate.p50Ms),
    p99Ms: medianOf((run) => run.fixedRate.p99Ms),
    serverMicrosPerDelivery: medianOf((run) => run.serverMicrosPerDelivery),
    serverCoreBusy: medianOf((run) => run.serverCoreBusy),
    clientCpu: medianOf((run) => run.saturation.clientCpu),
    checked: runs.length > 0 && errors.length === 0 && runs.every((run) => run.missing === 0 && run.wrong === 0),
  };
}

/** The runs by round, with holes where a round failed. */
function byRound(runs: FanoutRun[]): (FanoutRun | undefined)[] {
  const rounds: (FanoutRun | undefined)[] = [];
  for (const run of runs) rounds[run.round] = run;
  return rounds;
}

/** The median over the rounds in which both have a run of `value(a) / value(b)`. */
function pairedRatio(a: FanoutRun[], b: FanoutRun[], value: (run: FanoutRun) => number): number {
  return paired(byRound(a), byRound(b), (run, base) => value(run) / value(base))?.median ?? NaN;
}

/** The targets from the rows (also to re-read a saved report with newer code). */
export function fanoutTargets(rows: FanoutRow[]): FanoutTarget[] {
  const socketIo = rows.find((row) => row.system.kind === "socketio");
  if (!socketIo) return [];
  return rows.filter((row) => row.system.kind === "edgesocket").map((row) => {
    const ratio = pairedRatio(row.runs, socketIo.runs, (run) => run.saturation.deliveriesPerSecond);
    const p99Ratio = pairedRatio(row.runs, socketIo.runs, (run) => run.fixedRate.p99Ms);
    const cpuRatio = pairedRatio(row.runs, socketIo.runs, (run) => 1 / run.serverMicrosPerDelivery);
    return {
      runtime: row.system.runtime,
      ratio,
      p99Ratio,
      cpuRatio,
      throughputMet: ratio >= 1.5,
      p99Met: p99Ratio < 1,
    };
  });
}
