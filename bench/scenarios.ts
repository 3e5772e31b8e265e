/**
 * The scenarios of the bench, what each measures, and the figures (metrics) read from their results.
 * @module
 */
import type { ClientOptions, ScenarioResult } from "./load-client.ts";
import { type Kind, parseServerName } from "./servers.ts";
import { WARM_ECHOES } from "./wire.ts";

/** A scenario of the load client. */
export type ScenarioName = "idle" | "latency" | "throughput" | "large" | "churn" | "broadcast";

/**
 * The order scenarios run in on each group of servers: idle first, on processes that served nothing yet, the others
 * on processes started after it.
 */
export const SCENARIOS: readonly ScenarioName[] = ["idle", "latency", "throughput", "large", "churn", "broadcast"];

/**
 * A scenario's load-client options, how many alternating rounds it gets, on which kinds of server (all if unset),
 * and whether each round runs on a server process that served nothing before, started for it (`fresh`).
 */
export type ScenarioParams = Partial<Omit<ClientOptions, "port" | "pids">> & {
  repeats: number;
  kinds?: Kind[];
  fresh?: boolean;
  /**
   * Idle: at most this many rounds on workerd's servers (with `fresh`, each round starts `wrangler dev` anew, some
   * ten seconds on this machine).
   */
  workerdRepeats?: number;
};

/** The parameters the runner reads itself; the others go to the load client. */
export const RUNNER_PARAMS: readonly string[] = ["repeats", "kinds", "fresh", "workerdRepeats"];

/** One run of a scenario against one server: the client's result, or why it failed. */
export type ScenarioRun = ScenarioResult | { failed: string; value?: undefined; verified?: ScenarioResult["verified"] };

/** A figure read from a scenario's runs. */
export interface Metric {
  key: string;
  label: string;
  scenario: ScenarioName;
  read(run: ScenarioResult): number | undefined;
  higher: boolean;
  /** Compared as a difference in bytes (idle memory), not a ratio. */
  difference?: boolean;
}

const number = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

/** The figures in the tables, where each is read and which way is better. */
export const METRICS: readonly Metric[] = [
  { key: "throughput", label: "throughput msg/s", scenario: "throughput", read: (r) => r.value, higher: true },
  {
    key: "cpuPerMessage",
    label: "server CPU µs/msg",
    scenario: "throughput",
    read: (r) => number(r.cpuPerMessage),
    higher: false,
  },
  { key: "latency50", label: "latency p50 µs", scenario: "latency", read: (r) => number(r.p50), higher: false },
  { key: "latency99", label: "latency p99 µs", scenario: "latency", read: (r) => number(r.p99), higher: false },
  { key: "large", label: "64 KiB MB/s", scenario: "large", read: (r) => r.value, higher: true },
  { key: "churn", label: "churn conn/s", scenario: "churn", read: (r) => r.value, higher: true },
  { key: "idle", label: "idle B/conn", scenario: "idle", read: (r) => r.value, higher: false, difference: true },
  { key: "broadcast", label: "broadcast ms", scenario: "broadcast", read: (r) => r.value, higher: false },
];

/**
 * The idle scenario's second figure where the server gives it (`heap`: Bun, Deno, Node, workerd): the growth of the
 * JS heap after a full collection over the second half, per connection. Not among {@link METRICS}: the main run shows
 * it in its idle table and in the idle target's reason.
 */
export const IDLE_HEAP: Metric = {
  key: "idleHeap",
  label: "idle heap after GC B/conn",
  scenario: "idle",
  read: (r) => number(r.heap),
  higher: false,
  difference: true,
};

/**
 * The idle scenario's third figure where the server gives it (Deno, Node): the RSS growth over the second half less
 * the growth of V8's young generation in it (a one-off growth by steps of megabytes, up to a fixed maximum, that
 * lands in one half or the other), per connection.
 */
export const IDLE_LESS_YOUNG: Metric = {
  key: "idleLessYoung",
  label: "idle RSS less V8's young generation B/conn",
  scenario: "idle",
  read: (r) => number(r.rssLessYoung),
  higher: false,
  difference: true,
};

/**
 * The churn scenario's second figure: the server's CPU time per connect-echo-close cycle. Not among {@link METRICS}:
 * the main run shows it in its paired table and in the churn target's reason.
 */
export const CHURN_CPU: Metric = {
  key: "churnCpu",
  label: "churn server CPU µs/cycle",
  scenario: "churn",
  read: (r) => number(r.cpuPerCycle),
  higher: false,
};

/**
 * The 64 KiB echo's second figure: the server's minor page faults per message. On Node and Deno each message's
 * 64 KiB is a fresh allocation, and whether glibc gives that memory back to the kernel between messages (a fault per
 * page touched again) differs from process to process and moves the figure by up to 3×, on raw servers as on
 * edgesocket. Not among {@link METRICS}: the main run shows it in the 64 KiB target's reason.
 */
export const LARGE_FAULTS: Metric = {
  key: "largeFaults",
  label: "64 KiB server page faults/msg",
  scenario: "large",
  read: (r) => number(r.faultsPerMessage),
  higher: false,
};

/**
 * Every figure a summary computes: {@link METRICS}, {@link IDLE_HEAP}, {@link IDLE_LESS_YOUNG}, {@link CHURN_CPU},
 * {@link LARGE_FAULTS}.
 */
export const ALL_METRICS: readonly Metric[] = [...METRICS, IDLE_HEAP, IDLE_LESS_YOUNG, CHURN_CPU, LARGE_FAULTS];

/** The metric with `key`. */
export function metric(key: string): Metric {
  const found = ALL_METRICS.find((m) => m.key === key);
  if (!found) throw new Error(`no metric ${key}`);
  return found;
}

/**
 * The servers that serve the broadcast scenario (`/subscribe`, `/publish`): Bun's raw server with its native
 * `server.publish`, and edgesocket where it has pub/sub (Bun: native topics; Deno and Node: a loop over an
 * in-memory topic). A plain workerd Worker has no pub/sub; Hono's helper and crossws are not compared.
 */
export const BROADCAST_SERVERS: readonly string[] = ["bun-raw", "bun-edgesocket", "deno-edgesocket", "node-edgesocket"];

/**
 * Under `wrangler dev`, workerd holds several file descriptors per WebSocket, and this machine's hard limit is
 * 20,000 open files (not raisable in the container): 5,000 idle sockets end workerd with "accept: Too many open
 * files". Its idle scenario uses at most this many connections.
 */
export const WORKERD_IDLE_LIMIT = 2000;

/**
 * Messages in flight per connection on a server whose Worker hands its sockets to a Durable Object
 * (`workerd-durable`, `workerd-resume`): under `wrangler dev` each message there is an event of its own (60–170 µs
 * of server CPU), so the throughput load's 256 per connection would take longer than the client's 5 s to drain
 * after the window.
 */
export const DURABLE_INFLIGHT = 4;

/**
 * Whether `server` takes part in `scenario`, and with which parameters: a `*-resume` or `*-rawresume` server's load
 * client speaks the resume protocol.
 */
export function paramsFor(scenario: ScenarioName, server: string, params: ScenarioParams): ScenarioParams | undefined {
  if (scenario === "broadcast" && !BROADCAST_SERVERS.includes(server)) return undefined;
  const { kind } = parseServerName(server);
  if (params.kinds && !params.kinds.includes(kind)) return undefined;
  if (kind === "resume" || kind === "rawresume") params = { ...params, resume: true };
  if (server === "workerd-durable" || server === "workerd-resume") {
    params = { ...params, inflight: Math.min(params.inflight ?? DURABLE_INFLIGHT, DURABLE_INFLIGHT) };
  }
  if (scenario === "idle" && server.startsWith("workerd-")) {
    const count = Math.min(params.count ?? WORKERD_IDLE_LIMIT, WORKERD_IDLE_LIMIT);
    return { ...params, count, repeats: Math.min(params.repeats, params.workerdRepeats ?? params.repeats) };
  }
  return params;
}

/** What the broadcast figures are. */
export const BROADCAST_NOTE =
  "Broadcast: one 32 B text message from a publisher socket to every subscriber; the time until the last subscriber has it (median over the rounds). " +
  "bun-raw uses Bun's native server.publish, bun-edgesocket this.publish (Bun's native topics underneath); deno- and node-edgesocket (an in-memory topic loop) are for reference, with no raw counterpart.";

/** One line saying what `scenario` does with `p`. */
export function describeScenario(scenario: ScenarioName, p: ScenarioParams): string {
  const rounds = `${p.repeats} alternating round(s)${p.kinds ? ` on the ${p.kinds.join(", ")} servers only` : ""}`;
  switch (scenario) {
    case "throughput":
      return `- throughput: ${p.connections} connections, each keeping ${p.inflight} text messages of ${p.size} B in flight (${DURABLE_INFLIGHT} on workerd's Durable Object servers), ${p.duration} ms after ${p.warmup} ms warm-up; messages per second and the server's CPU time (utime + stime of its process group) per message; ${rounds}` +
        (p.fresh ? ", each on a process started for it (none carries what an earlier round left in its heap)." : ".");
    case "latency":
      return `- latency: one connection, sequential round trips of ${p.size} B text, up to ${p.count} samples or ${p.duration} ms after ${p.warmup} warm-up round trips (fewer leave the JIT compiling during the samples); p50 and p99; ${rounds}.`;
    case "large":
      return `- large: ${p.connections} connections, ${p.inflight} binary messages of ${
        (p.size ?? 0) / 1024
      } KiB in flight each, ${p.duration} ms; MB/s echoed, and the server's page faults per message; ${rounds}.`;
    case "churn":
      return `- churn: ${p.connections} parallel loops of connect, one echo, close handshake; completed cycles per second over ${p.duration} ms, and the server's CPU time per cycle; ${rounds}.`;
    case "broadcast":
      return `- broadcast: ${p.count} subscribers, ${p.rounds} messages ${p.gap} ms apart; every subscriber must receive every message, byte for byte; ${rounds}.`;
    case "idle":
      return `- idle: ${p.count} connections that each echoed one message, opened in two halves on a server that served nothing before${
        p.warmConnections
          ? ` but ${p.warmConnections} connections that each echoed ${WARM_ECHOES} messages and closed (its JIT's one-off compilations before the readings)`
          : ""
      }; the server's RSS growth (whole process group) over the second half, per connection: ` +
        "what one more connection costs, without the one-off costs the first connections pay" +
        (p.fresh && p.repeats > 1
          ? `; ${p.repeats} alternating rounds, each on processes started for it, compared pair by pair (median of the ${p.repeats} paired differences, their range)`
          : "") +
        (p.heap
          ? "; beside the RSS, the JS heap in use after a full collection, read the same way (Bun, Deno, Node: `GET /bench/heap` of the bench servers, bench/servers/heap.ts; workerd: its inspector under wrangler dev, bench/inspector.ts; read after each RSS reading, so that the second half starts after a collection on both servers of a pair)"
          : "") +
        ". " +
        `workerd gets at most ${WORKERD_IDLE_LIMIT}: under wrangler dev it holds several file descriptors per WebSocket and this machine's hard limit of 20,000 open files ends it near 5,000` +
        (p.workerdRepeats !== undefined && p.workerdRepeats < p.repeats
          ? `, and ${p.workerdRepeats} round(s), each starting wrangler dev anew.`
          : ".");
  }
}
