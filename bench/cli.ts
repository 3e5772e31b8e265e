/**
 * The command line of `npm run bench`: the modes (full, quick, smoke) with their scenario parameters, and the
 * arguments that select servers and scenarios.
 * @module
 */
import path from "node:path";
import { ROOT } from "../test/helpers/runtimes.ts";
import { IDLE_KINDS, RESUME, RESUME_RUNTIMES, RESUME_SCENARIOS, RESUME_SERVERS, resumeServers } from "./resume.ts";
import { type ScenarioName, type ScenarioParams, SCENARIOS } from "./scenarios.ts";
import { ALL_SERVERS, EDGESOCKET_RUNTIMES, type Kind } from "./servers.ts";

/** A mode: which servers run by default and each scenario's parameters. */
export interface Mode {
  servers: readonly string[];
  scenarios: Partial<Record<ScenarioName, ScenarioParams>>;
  /** The servers of `--scenarios resume` (bench/resume.ts), which runs its scenarios with the parameters above. */
  resumeServers: readonly string[];
  /**
   * The resume scenario's idle memory: rounds (pairs), each on processes started for it (fewer on workerd, where each
   * starts `wrangler dev`), and connections per round (the heap after a full collection is read beside the RSS).
   */
  resumeIdle: { repeats: number; workerdRepeats: number; count: number };
  /**
   * The resume scenario's warm-up before each throughput window, in ms. Each of its rounds runs on a process started
   * for it, and 300 ms measured a process still sizing its heap: on Bun the protocol by hand read 0.78× of the raw
   * echo after 300 ms and 0.92× after 2 s (docs/performance.md).
   */
  resumeWarmup: number;
}

const TARGET_SERVERS = EDGESOCKET_RUNTIMES.flatMap((runtime) =>
  ALL_SERVERS.filter((name) => name.startsWith(`${runtime}-`) && name !== "node-raw")
);

/** The load of the throughput targets: 50 connections each keeping 256 messages of 32 bytes in flight. */
const TARGET_LOAD = { connections: 50, inflight: 256 };

/** The sizes that tell the modes apart. Times in ms. */
interface Scale {
  /** Rounds of the throughput scenario (its pairs) and of the others. */
  pairs: number;
  rounds: number;
  /** How long each measuring window lasts, and the warm-up before it. */
  window: number;
  warmup: number;
  /** Idle connections, latency samples, broadcast subscribers. */
  idle: number;
  /** Rounds of the idle scenario, each on processes started for it (on workerd too, though each starts wrangler). */
  idleRounds: number;
  samples: number;
  /**
   * Round trips before the latency samples. 5,000 left p99 measuring the optimizing compiler's work on the path
   * (edgesocket's more than a raw echo's) and whatever the servers' start left running, not the steady state: p99
   * fell from about 100 to about 65 µs at 20,000 on Bun, Deno and Node (docs/performance.md).
   */
  warmTrips: number;
  subscribers: number;
  /** A pause that lets a server settle (idle memory, subscriptions). */
  settle: number;
  load: { connections: number; inflight: number };
  /** Idle memory, 64 KiB echo and churn only on the servers their targets compare (the base and edgesocket). */
  targetsOnly?: boolean;
}

/**
 * Connections that echo and close before the idle scenario's first reading. On workerd, without them, V8's optimizing
 * compiler woke during the second half for edgesocket's JavaScript and not for the raw echo's, and its code, paged in
 * once, read as about 4.4 KiB per connection (docs/performance.md).
 */
const IDLE_WARM_CONNECTIONS = 1000;

function scenarios(s: Scale): Mode["scenarios"] {
  const size = 32;
  const kinds: Kind[] | undefined = s.targetsOnly ? ["raw", "rawtext", "edgesocket"] : undefined;
  return {
    idle: {
      repeats: s.idleRounds,
      fresh: true,
      heap: true,
      count: s.idle,
      warmConnections: Math.min(s.idle, IDLE_WARM_CONNECTIONS),
      settle: s.settle,
      size,
      kinds,
    },
    latency: { repeats: s.rounds, count: s.samples, warmup: s.warmTrips, duration: 2 * s.window, size },
    throughput: { repeats: s.pairs, ...s.load, size, warmup: s.warmup, duration: s.window },
    large: { repeats: s.rounds, connections: 4, inflight: 4, size: 65536, warmup: s.warmup, duration: s.window, kinds },
    churn: { repeats: s.rounds, connections: 8, duration: s.window, size, kinds },
    broadcast: { repeats: 1, count: s.subscribers, rounds: 20, gap: 20, settle: s.settle, size },
  };
}

/** The modes by name. */
export const MODES: Record<"full" | "quick" | "smoke", Mode> = {
  full: {
    // node-raw (raw ws echoing bytes unread) is measured for reference; the Python Tornado server is the seed's.
    servers: ALL_SERVERS,
    scenarios: scenarios({
      pairs: 6,
      rounds: 6,
      window: 1000,
      warmup: 300,
      idle: 5000,
      idleRounds: 3,
      samples: 5000,
      warmTrips: 20000,
      subscribers: 5000,
      settle: 500,
      load: TARGET_LOAD,
    }),
    resumeServers: resumeServers(RESUME_RUNTIMES),
    resumeIdle: { repeats: 5, workerdRepeats: 3, count: 5000 },
    resumeWarmup: 2000,
  },
  quick: {
    servers: TARGET_SERVERS,
    scenarios: scenarios({
      pairs: 3,
      rounds: 1,
      window: 300,
      warmup: 150,
      idle: 400,
      idleRounds: 1,
      samples: 1000,
      warmTrips: 1000,
      subscribers: 500,
      settle: 100,
      load: TARGET_LOAD,
      targetsOnly: true,
    }),
    resumeServers: resumeServers(RESUME_RUNTIMES),
    resumeIdle: { repeats: 3, workerdRepeats: 1, count: 2000 },
    resumeWarmup: 300,
  },
  smoke: {
    servers: ["bun-raw", "bun-edgesocket"],
    scenarios: scenarios({
      pairs: 2,
      rounds: 1,
      window: 200,
      warmup: 100,
      idle: 20,
      idleRounds: 1,
      samples: 100,
      warmTrips: 100,
      subscribers: 20,
      settle: 100,
      load: { connections: 4, inflight: 4 },
    }),
    resumeServers: resumeServers(["bun"]),
    resumeIdle: { repeats: 2, workerdRepeats: 1, count: 20 },
    resumeWarmup: 100,
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
  /** Runs nothing: writes the report (and with `docs` the document's block) again from `<out>/latest.json`. */
  rewrite: boolean;
  /** `--scenarios fanout`: also run the fan-out benchmark (bench/fanout/, two processes behind one Redis). */
  fanout: boolean;
  /** `--scenarios resume`: also run the resume scenario (bench/resume.ts: plain route against resume route). */
  resume: boolean;
}

/** The scenario that runs the fan-out benchmark of bench/fanout/ (its own servers, Redis and load client). */
export const FANOUT = "fanout";

/** The usage line. */
export const USAGE =
  "npm run bench -- [--quick | --smoke] [--servers bun-raw,bun-edgesocket] [--scenarios idle,latency,fanout,resume] [--repeats N] [--out DIR] [--readme] [--rewrite]";

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").filter(Boolean);
}

/** Parses `argv` (without node and the script); throws on anything unknown. */
export function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    mode: "full",
    out: path.join(ROOT, "bench", "results"),
    docs: false,
    rewrite: false,
    fanout: false,
    resume: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick" || arg === "--smoke") args.mode = arg === "--quick" ? "quick" : "smoke";
    else if (arg === "--servers") args.servers = list(argv[++i]);
    else if (arg === "--scenarios") {
      const names = list(argv[++i]);
      args.fanout = names.includes(FANOUT);
      args.resume = names.includes(RESUME);
      args.scenarios = names.filter((name) => name !== FANOUT && name !== RESUME) as ScenarioName[];
    } else if (arg === "--repeats") args.repeats = Number(argv[++i]);
    else if (arg === "--out") args.out = path.resolve(argv[++i] ?? "");
    else if (arg === "--readme") args.docs = true;
    else if (arg === "--rewrite") args.rewrite = true;
    else throw new Error(`unknown argument ${arg}\nusage: ${USAGE}`);
  }
  for (const name of args.servers ?? []) {
    if (!ALL_SERVERS.includes(name) && !RESUME_SERVERS.includes(name)) throw new Error(`unknown server ${name}`);
  }
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
    .map((name) => [name, withRepeats(all[name]!, args)]);
}

function withRepeats(params: ScenarioParams, args: Args): ScenarioParams {
  return { ...params, ...(args.repeats ? { repeats: args.repeats } : {}) };
}

/** Whether the main run has anything to do: not when `--scenarios` named only fanout and resume. */
export function runsMainScenarios(args: Args): boolean {
  return args.scenarios?.length !== 0;
}

/**
 * The resume scenario's servers (the mode's, or those of `--servers` among them) and its scenarios with the mode's
 * parameters on every server (`repeats` if given); idle memory in the mode's {@link Mode.resumeIdle} rounds, each on
 * fresh processes, with the heap beside the RSS; throughput after the mode's {@link Mode.resumeWarmup}.
 */
export function resumeSelection(args: Args): { servers: string[]; scenarios: [ScenarioName, ScenarioParams][] } {
  const mode = MODES[args.mode];
  const servers = mode.resumeServers.filter((name) => !args.servers || args.servers.includes(name));
  const scenarios = RESUME_SCENARIOS.map((name): [ScenarioName, ScenarioParams] => {
    const { kinds: _onEveryServer, ...params } = mode.scenarios[name]!;
    const idle = name === "idle"
      ? {
        ...mode.resumeIdle,
        warmConnections: Math.min(mode.resumeIdle.count, IDLE_WARM_CONNECTIONS),
        heap: true,
        kinds: [...IDLE_KINDS],
      }
      : { warmup: mode.resumeWarmup };
    return [name, withRepeats({ ...params, ...idle, fresh: true }, args)];
  });
  return { servers, scenarios };
}

/** The servers of the main run: the mode's, or those of `--servers` that are not only the resume scenario's. */
export function mainServers(args: Args): readonly string[] {
  return args.servers?.filter((name) => ALL_SERVERS.includes(name)) ?? MODES[args.mode].servers;
}
