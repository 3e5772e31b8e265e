/**
 * The command line of `npm run bench`: the modes (full, quick, smoke) with their scenario parameters, and the
 * arguments that select servers and scenarios.
 * @module
 */
import path from "node:path";
import { ROOT } from "../test/helpers/runtimes.ts";
import { type ScenarioName, type ScenarioParams, SCENARIOS } from "./scenarios.ts";
import { ALL_SERVERS } from "./servers.ts";

/** A mode: which servers run by default and each scenario's parameters. */
export interface Mode {
  servers: readonly string[];
  scenarios: Partial<Record<ScenarioName, ScenarioParams>>;
}

const TARGET_SERVERS = ["bun", "deno", "workerd", "node"].flatMap((runtime) =>
  ALL_SERVERS.filter((name) => name.startsWith(`${runtime}-`) && name !== "node-raw")
);

/** The load of the throughput targets: 50 connections each keeping 256 messages of 32 bytes in flight. */
const THROUGHPUT = { connections: 50, inflight: 256, size: 32 };

/** The modes by name. */
export const MODES: Record<"full" | "quick" | "smoke", Mode> = {
  full: {
    // node-raw (raw ws echoing bytes unread) is measured for reference; the Python Tornado server is the seed's.
    servers: ALL_SERVERS,
    scenarios: {
      idle: { repeats: 1, count: 5000, settle: 500, size: 32 },
      latency: { repeats: 3, count: 5000, duration: 2000, warmup: 5000, size: 32 },
      throughput: { repeats: 6, ...THROUGHPUT, warmup: 300, duration: 1000 },
      large: { repeats: 3, connections: 4, inflight: 4, size: 65536, warmup: 300, duration: 800 },
      churn: { repeats: 3, connections: 8, duration: 800, size: 32 },
      broadcast: { repeats: 1, count: 5000, rounds: 20, gap: 20, settle: 300, size: 32 },
    },
  },
  quick: {
    servers: TARGET_SERVERS,
    scenarios: {
      idle: { repeats: 1, count: 400, settle: 100, size: 32 },
      latency: { repeats: 1, count: 1000, duration: 300, warmup: 1000, size: 32 },
      throughput: { repeats: 3, ...THROUGHPUT, warmup: 150, duration: 300 },
      large: { repeats: 1, connections: 4, inflight: 4, size: 65536, warmup: 100, duration: 200 },
      churn: { repeats: 1, connections: 8, duration: 200, size: 32 },
      broadcast: { repeats: 1, count: 500, rounds: 5, gap: 10, settle: 100, size: 32 },
    },
  },
  smoke: {
    servers: ["bun-raw", "bun-edgesocket"],
    scenarios: {
      idle: { repeats: 1, count: 20, settle: 100, size: 32 },
      latency: { repeats: 1, count: 100, duration: 300, warmup: 20, size: 32 },
      throughput: { repeats: 2, connections: 4, inflight: 4, size: 32, warmup: 100, duration: 200 },
      large: { repeats: 1, connections: 1, inflight: 2, size: 65536, warmup: 100, duration: 200 },
      churn: { repeats: 1, connections: 2, duration: 200, size: 32 },
      broadcast: { repeats: 1, count: 20, rounds: 3, gap: 10, settle: 100, size: 32 },
    },
  },
};

/** The parsed command line. */
export interface Args {
  mode: keyof typeof MODES;
  servers?: string[];
  scenarios?: ScenarioName[];
  /** Overrides every scenario's number of rounds. */
  repeats?: number;
  /** Where latest.{md,svg,json} go. */
  out: string;
  /** Also write the tables into the performance document. */
  docs: boolean;
  /** Only rewrite the performance document's block from `<out>/latest.json`, running nothing. */
  docsOnly: boolean;
}

/** The usage line. */
export const USAGE =
  "npm run bench -- [--quick | --smoke] [--servers bun-raw,bun-edgesocket] [--scenarios idle,latency] [--repeats N] [--out DIR] [--readme | --readme-only]";

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").filter(Boolean);
}

/** Parses `argv` (without node and the script); throws on anything unknown. */
export function parseArgs(argv: readonly string[]): Args {
  const args: Args = { mode: "full", out: path.join(ROOT, "bench", "results"), docs: false, docsOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick" || arg === "--smoke") args.mode = arg === "--quick" ? "quick" : "smoke";
    else if (arg === "--servers") args.servers = list(argv[++i]);
    else if (arg === "--scenarios") args.scenarios = list(argv[++i]) as ScenarioName[];
    else if (arg === "--repeats") args.repeats = Number(argv[++i]);
    else if (arg === "--out") args.out = path.resolve(argv[++i] ?? "");
    else if (arg === "--readme") args.docs = true;
    else if (arg === "--readme-only") args.docsOnly = true;
    else throw new Error(`unknown argument ${arg}\nusage: ${USAGE}`);
  }
  for (const name of args.servers ?? []) if (!ALL_SERVERS.includes(name)) throw new Error(`unknown server ${name}`);
  for (const name of args.scenarios ?? []) if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}`);
  if (args.repeats !== undefined && !(Number.isInteger(args.repeats) && args.repeats > 0)) {
    throw new Error("--repeats takes a positive whole number");
  }
  return args;
}

/** The scenarios of `mode` to run: the named ones (all if none), with `repeats` if given. */
export function selectedScenarios(args: Args): [ScenarioName, ScenarioParams][] {
  const all = MODES[args.mode].scenarios;
  return SCENARIOS.filter((name) => all[name] && (!args.scenarios || args.scenarios.includes(name)))
    .map((name) => [name, { ...all[name]!, ...(args.repeats ? { repeats: args.repeats } : {}) }]);
}
