/**
 * The resume scenario (`npm run bench -- --scenarios resume`, issue 13): on each runtime, edgesocket's echo on a
 * plain route (`<runtime>-edgesocket`) against the same handler on a route with `resume: true` (`<runtime>-resume`,
 * whose load client speaks the resume protocol as `EdgeSocket` does: hello, welcome, acknowledgements). Throughput
 * in pairs of alternating rounds with the server's CPU per message, and idle memory per session, against the
 * targets: at least 0.90× the plain route's throughput, at most 2 KiB more per idle session. On Bun, Deno and Node it
 * also measures the protocol's least cost apart from edgesocket (see {@link FLOOR_RUNTIMES}). Writes `resume.{json,md}`
 * and, with `--readme`, the "Resume" block of the performance document.
 * @module
 */
import { describeScenario, type Metric, metric, type ScenarioName } from "./scenarios.ts";
import {
  compareWhy,
  cpuTable,
  fmt,
  kib,
  pairedText,
  PERFORMANCE_DOC,
  replaceDocBlock,
  resultsTable,
  row,
  type TargetRow,
  throughputWhy,
} from "./report.ts";
import { EDGESOCKET_RUNTIMES, type Kind, parseServerName, type Runtime } from "./servers.ts";
import { type Spread, spread } from "./stats.ts";
import type { RunReport } from "./summary.ts";

/** The name that selects the scenario: `--scenarios resume`. */
export const RESUME = "resume";

/** The runtimes the scenario measures, in order. */
export const RESUME_RUNTIMES: readonly Runtime[] = EDGESOCKET_RUNTIMES;

/**
 * The kind of server of `runtime`'s plain route: edgesocket's; on workerd the same route in a Durable Object
 * (`durable`), since a resume route there needs one (a plain Worker keeps nothing between requests).
 */
export function plainKind(runtime: Runtime): Kind {
  return runtime === "workerd" ? "durable" : "edgesocket";
}

/** The plain route's server of `runtime`, and its resume route's. */
export function resumePair(runtime: Runtime): { plain: string; resume: string } {
  return { plain: `${runtime}-${plainKind(runtime)}`, resume: `${runtime}-resume` };
}

/**
 * The runtimes where the scenario also measures the resume protocol's least cost, apart from edgesocket: the echo
 * with the protocol written by hand on the raw API (`<runtime>-rawresume`: counts, replay buffer and
 * acknowledgements, no framework, no checks or limits; bench/servers/raw-resume.ts) against the same raw echo without
 * it, in the same rounds as the routes: on Bun and Node, whose whole message costs a quarter of a microsecond and about
 * one and a half, that cost shows most; on Deno, to tell the protocol's cost there from edgesocket's. workerd has no
 * floor: its resume route needs a Durable Object, whose own costs a raw Worker does not have.
 */
export const FLOOR_RUNTIMES: readonly Runtime[] = ["bun", "deno", "node"];

/**
 * The raw echo of `runtime` the floor is measured against (on Node raw `ws` that writes a turn's messages together,
 * as the Node adapter does), and the same with the resume protocol by hand (see {@link FLOOR_RUNTIMES}).
 */
export function floorPair(runtime: Runtime): { plain: string; resume: string } {
  return { plain: `${runtime}-${floorBaseKind(runtime)}`, resume: `${runtime}-rawresume` };
}

function floorBaseKind(runtime: Runtime): Kind {
  return runtime === "node" ? "rawcork" : "raw";
}

/** The scenario's servers on `runtimes`: each runtime's plain route, its resume route, and its floor's pair. */
export function resumeServers(runtimes: readonly Runtime[]): string[] {
  return runtimes.flatMap((runtime) => [
    ...Object.values(resumePair(runtime)),
    ...(FLOOR_RUNTIMES.includes(runtime) ? Object.values(floorPair(runtime)) : []),
  ]);
}

/**
 * The servers a server of the scenario is compared with: a resume route with its runtime's plain route, the raw
 * resume echo with the raw echo.
 */
export function comparedKinds(name: string): Kind[] {
  const { runtime, kind } = parseServerName(name);
  if (kind === "resume") return [plainKind(runtime)];
  return kind === "rawresume" ? [floorBaseKind(runtime)] : [];
}

/** Every server the scenario knows, for `--servers`. */
export const RESUME_SERVERS: readonly string[] = resumeServers(RESUME_RUNTIMES);

/** The servers whose idle memory the scenario measures: the routes' (the floor is for throughput). */
export const IDLE_KINDS: readonly Kind[] = ["edgesocket", "durable", "resume"];

/** The scenarios it runs on each runtime's pair, in this order (idle first, on servers that served nothing yet). */
export const RESUME_SCENARIOS: readonly ScenarioName[] = ["idle", "throughput"];

/** A resume route's throughput at least this share of the plain route's. */
export const THROUGHPUT_TARGET = 0.9;
/** A resume route's idle memory per session at most this many bytes above the plain route's per connection. */
export const IDLE_ALLOWANCE = 2048;

/**
 * Why workerd's idle RSS per session can read above the allowance while its JS heap stays within it: the bench's RSS
 * sums all of wrangler's processes, and bench/workerd-heap.ts measured the Durable Object's own process apart. Fixed
 * text, marked as an earlier finding: rerun that script when the figure moves.
 */
const WORKERD_IDLE_WHY = "; the RSS sums all of wrangler's processes, whose others move by several KiB per " +
  "connection between runs; an earlier finding, not this run's: bench/workerd-heap.ts (2026-12-02) measured the " +
  "Durable Object's own process, +0.1 KiB of RSS per session after a full collection (docs/performance.md)";

/** One runtime's cost of resume, as measured. */
export interface ResumeCost {
  runtime: Runtime;
  /** Paired round by round: resume ÷ plain (throughput), plain ÷ resume (CPU per message), resume − plain (bytes). */
  throughput?: Spread;
  cpuPerMessage?: Spread;
  idle?: Spread;
  /** The JS heap after a full collection, resume − plain per session (bytes), where the runtime gave it. */
  idleHeap?: Spread;
  /** The RSS growth less V8's young generation's, resume − plain per session (bytes), where the runtime gave it. */
  idleLessYoung?: Spread;
  /**
   * The protocol by hand on the raw API against the raw echo, in the same rounds (see {@link FLOOR_RUNTIMES}):
   * throughput (rawresume ÷ raw) and CPU per message (raw ÷ rawresume).
   */
  floor?: { throughput?: Spread; cpuPerMessage?: Spread };
  /** The two targets, where measured. */
  targets: TargetRow[];
  /** Why the runtime's resume route was not measured. */
  unavailable?: string;
}

/** The cost of resume on each runtime of the report. */
export function resumeCosts({ summary, skipped }: Pick<RunReport, "summary" | "skipped">): ResumeCost[] {
  const costs: ResumeCost[] = [];
  for (const runtime of RESUME_RUNTIMES) {
    const names = resumePair(runtime);
    const plain = summary[names.plain];
    const resume = summary[names.resume];
    if (!plain && !resume) continue;
    if (!plain || !resume || resume.error || plain.error) {
      const why = skipped[names.resume] ?? resume?.error ?? skipped[names.plain] ?? plain?.error;
      costs.push({ runtime, targets: [], unavailable: why ?? "not measured" });
      continue;
    }
    const vs = resume.vs[plainKind(runtime)] ?? {};
    const floor = floorOf(runtime, summary);
    costs.push({
      runtime,
      throughput: vs.throughput,
      cpuPerMessage: vs.cpuPerMessage,
      idle: vs.idle,
      idleHeap: vs.idleHeap,
      idleLessYoung: vs.idleLessYoung,
      floor,
      targets: [
        row(
          runtime,
          `throughput ≥ ${THROUGHPUT_TARGET.toFixed(2)}× the plain route`,
          vs.throughput,
          (v) => v >= THROUGHPUT_TARGET,
          () => `${throughputWhy(resume, plain, "plain", "resume")}${floorWhy(floor)}`,
        ),
        row(
          runtime,
          `idle memory ≤ the plain route + ${IDLE_ALLOWANCE / 1024} KiB per session`,
          vs.idle,
          (v) => v <= IDLE_ALLOWANCE,
          () =>
            `${compareWhy(resume, plain, "plain", "idle", "resume")}${heapWhy(vs.idleHeap)}${
              runtime === "workerd" ? WORKERD_IDLE_WHY : ""
            }`,
          kib,
        ),
      ],
    });
  }
  return costs;
}

/** The floor's comparison of `runtime` (see {@link FLOOR_RUNTIMES}), where it was measured. */
function floorOf(runtime: Runtime, summary: RunReport["summary"]): ResumeCost["floor"] {
  const vs = summary[floorPair(runtime).resume]?.vs[floorBaseKind(runtime)];
  return vs?.throughput ? { throughput: vs.throughput, cpuPerMessage: vs.cpuPerMessage } : undefined;
}

/** The floor beside a missed throughput target, where it was measured. */
function floorWhy(floor: ResumeCost["floor"]): string {
  return floor
    ? `; the protocol by hand on the raw API against the raw echo: ${pairedText(floor.throughput)}, CPU per message ${
      pairedText(floor.cpuPerMessage)
    }`
    : "";
}

/** The JS heap after a full collection beside a missed idle target, where the runtime gave it. */
function heapWhy(heap: Spread | undefined): string {
  return heap ? `; JS heap after a full collection ${pairedText(heap, kib)} per session, paired` : "";
}

function verdict(targets: readonly TargetRow[]): string {
  if (targets.some((t) => t.met === undefined)) return "not measured";
  const missed = targets.filter((t) => !t.met);
  return missed.length === 0 ? "met" : `**missed**: ${missed.map((t) => t.target).join("; ")}`;
}

/**
 * The cost of resume, one row per runtime: throughput and CPU per message against the plain route (paired), idle
 * memory per session, the targets, and why one is missed.
 */
export function costTable(report: Pick<RunReport, "summary" | "skipped">): string[] {
  const costs = resumeCosts(report);
  // A run that read the heap (bench/servers/heap.ts) or measured the floor gets its columns; an older run's report
  // stays as it was.
  const heap = costs.some((cost) => cost.idleHeap !== undefined);
  const floor = costs.some((cost) => cost.floor !== undefined);
  const lines = [
    `| runtime | throughput, resume ÷ plain | server CPU per message, plain ÷ resume |${
      floor ? " the protocol by hand on the raw API ÷ the raw echo: throughput, CPU per message |" : ""
    } idle memory per session, resume − plain |${
      heap ? " the same less V8's young generation | idle JS heap after GC per session, resume − plain |" : ""
    } targets (≥ 0.90×, ≤ +2 KiB) | why not (measured) |`,
    `|---|---:|---:|${floor ? "---:|" : ""}---:|${heap ? "---:|---:|" : ""}---|---|`,
  ];
  for (const cost of costs) {
    const floorCell = floor
      ? ` ${cost.floor ? `${pairedText(cost.floor.throughput)}, ${pairedText(cost.floor.cpuPerMessage)}` : "–"} |`
      : "";
    if (cost.unavailable) {
      lines.push(
        `| ${cost.runtime} | – | – |${floorCell} – |${heap ? " – | – |" : ""} not measured | ${cost.unavailable} |`,
      );
      continue;
    }
    const pairs = (s: Spread | undefined) => (s && s.n > 1 ? `, ${s.n} pairs` : "");
    const why = cost.targets.filter((t) => t.met === false).map((t) => t.why).join("; ");
    const readable = (s: Spread | undefined) => (s ? pairedText(s, kib) : "not readable");
    const heapCell = heap ? ` ${readable(cost.idleLessYoung)} | ${readable(cost.idleHeap)} |` : "";
    lines.push(
      `| ${cost.runtime} | ${pairedText(cost.throughput)}${pairs(cost.throughput)} | ${
        pairedText(cost.cpuPerMessage)
      } |${floorCell} ${pairedText(cost.idle, kib)}${pairs(cost.idle)} |${heapCell} ${
        verdict(cost.targets)
      } | ${why} |`,
    );
  }
  return lines;
}

const FIGURES: readonly Metric[] = ["throughput", "cpuPerMessage", "idle"].map(metric);
const FIGURES_WITH_HEAP: readonly Metric[] = [...FIGURES, metric("idleLessYoung"), metric("idleHeap")];

/** How busy the machine was: the cores other processes used during the throughput windows, over every run. */
export function otherLoad(report: Pick<RunReport, "results">): Spread | undefined {
  const others = Object.values(report.results).flatMap((results) =>
    (results.runs.throughput ?? []).map((run) => (run && !("failed" in run) ? run.otherCpu as number : undefined))
  );
  return spread(others);
}

const METHOD_START =
  "On each runtime, edgesocket's echo handler on a plain route and the same handler on a route with `resume: true` " +
  "run pinned to one core and are measured in turn from the other core in rounds that alternate their order " +
  "(plain, resume, then resume, plain), each round on a process started for it: a process that served the idle " +
  "rounds' 5,000 connections before can cost twice as much per message (on Node, V8's collector; " +
  "docs/performance.md). The resume route's load client speaks the resume protocol as " +
  "`EdgeSocket` does: it offers `edgesocket.resume.v1`, sends the hello, waits for the welcome, and acknowledges " +
  "every 64 messages (or 100 ms after the first one not acknowledged); the server acknowledges likewise. On Bun, Deno " +
  "and Node the same rounds also measure a raw echo and the same echo with the protocol written by hand " +
  "(bench/servers/raw-resume.ts: the counts, the replay buffer and the acknowledgements, without edgesocket and " +
  "without its checks and limits; on Node raw `ws` that writes a turn's messages together, as the Node adapter " +
  "does), for what the protocol costs on that runtime whoever implements it. " +
  "Comparisons are the median of the per-round ratios (range in parentheses); ";

/** How the run of `params` measured idle memory (a run before the repeated measurement: once per server). */
function idleMethod(params: RunReport["params"]): string {
  const idle = params.idle;
  if (!idle?.fresh || idle.repeats < 2) {
    return "idle memory is measured once per server, on a process that served nothing before, as the growth of its RSS over the second half of the sessions.";
  }
  const workerd = idle.workerdRepeats !== undefined && idle.workerdRepeats < idle.repeats
    ? ` (${idle.workerdRepeats} on workerd, where each starts \`wrangler dev\`)`
    : "";
  return `idle memory is measured ${idle.repeats} times per server${workerd}, alternating the plain and the resume route, each ` +
    "time on a process started for it, as the growth of its RSS over the second half of the sessions" +
    (idle.warmConnections
      ? ` (after ${idle.warmConnections} connections that echoed and closed: the JIT's one-off compilations)`
      : "") +
    "; the comparison " +
    "is the median of the paired differences (range in parentheses)" +
    (idle.heap
      ? "; beside it the same for the RSS growth less that of V8's young generation (Deno, Node: it grows by steps " +
        "of megabytes, up to a fixed maximum, once per process and not per connection, and lands in one half or the " +
        "other), and for the JS heap in use after a full collection; both read after each RSS reading, on Bun, Deno " +
        "and Node through a bench-only route, with no command-line flag (the servers run as a user's would), on " +
        "workerd through the inspector of `wrangler dev` (two collections, then V8's heap in use)."
      : ".");
}

function method(report: Pick<RunReport, "params">): string {
  return METHOD_START + idleMethod(report.params);
}

function runLine(report: RunReport): string {
  const { machine, wallSeconds } = report;
  const other = otherLoad(report);
  const busy = other
    ? `other processes used ${fmt(other.median, 2)} cores (${fmt(other.min, 2)}–${
      fmt(other.max, 2)
    }) of the 2 during the throughput windows`
    : "the machine's other load was not measured";
  return `The run below: ${String(machine.date).slice(0, 10)}, ${
    report.params.throughput?.repeats ?? 0
  } pairs of throughput rounds${warmupText(report.params.throughput)} in ${
    Math.round(wallSeconds / 60)
  } minutes, ${machine.cores}-core ${machine.cpu}; ${busy}${
    machine.loadavg ? ` (load average at the start ${machine.loadavg})` : ""
  }. Node ${String(machine.node).replace(/^v/, "")}, Bun ${machine.bun}, Deno ${
    String(machine.deno).split(" ")[1]
  }, workerd ${machine.workerd} under \`wrangler dev\` ${machine.wrangler}.`;
}

function warmupText(throughput: RunReport["params"]["throughput"]): string {
  return throughput?.warmup ? ` (each ${throughput.duration} ms after ${throughput.warmup} ms of warm-up)` : "";
}

/** The line that opens the performance document's resume block. */
export const RESUME_DOC_START =
  "<!-- bench:resume:start (written by `npm run bench -- --scenarios resume --readme`) -->";
/** The line that closes it. */
export const RESUME_DOC_END = "<!-- bench:resume:end -->";

/** The performance document's resume block for `report`. */
export function resumeBlock(report: RunReport): string {
  return [
    RESUME_DOC_START,
    "",
    `${runLine(report)} ${method(report)}`,
    "",
    ...costTable(report),
    "",
    "The figures (medians over the rounds; in parentheses, the resume route against the plain route, and the raw " +
    "resume echo against the raw echo, paired as above):",
    "",
    ...figuresTable(report),
    "",
    RESUME_DOC_END,
  ].join("\n");
}

/** Each server's medians of throughput, CPU per message and idle memory; the resume route's against the plain's. */
function figuresTable(report: RunReport): string[] {
  const heap = Object.values(report.summary).some((s) => s.medians.idleHeap !== undefined);
  return resultsTable(report, heap ? FIGURES_WITH_HEAP : FIGURES, (name) => {
    const { runtime, kind } = parseServerName(name);
    if (kind === "resume") return resumePair(runtime).plain;
    return kind === "rawresume" ? floorPair(runtime).plain : undefined;
  });
}

/** Replaces the resume block of the performance document (`deno`: to format it). */
export function updateResumeDoc(report: RunReport, deno: string | undefined): void {
  replaceDocBlock(
    PERFORMANCE_DOC,
    { start: RESUME_DOC_START, startPrefix: "<!-- bench:resume:start", end: RESUME_DOC_END },
    resumeBlock(report),
    deno,
  );
}

/** The full Markdown report of a resume run (`resume.md`). */
export function resumeMarkdown(report: RunReport): string {
  return [
    `# edgesocket benchmark: the cost of resume (${report.mode})`,
    "",
    method(report),
    "",
    ...costTable(report),
    "",
    "## Figures",
    "",
    ...figuresTable(report),
    "",
    "## Who was the limit (throughput scenario)",
    "",
    "CPU in cores during the throughput window (median over the rounds): the servers share one core, the client has the other; 'others' is everything else on the machine.",
    "",
    ...cpuTable(report),
    "",
    "## Scenarios",
    "",
    ...Object.entries(report.params).map(([scenario, p]) => describeScenario(scenario as ScenarioName, p)),
    "- Every echo is checked by the client: opcode, length and bytes; the count of echoes must equal the count sent; on the resume route every control frame must be a welcome or an acknowledgement of no more than was sent.",
    `- Written into ${PERFORMANCE_DOC} by \`npm run bench -- --scenarios resume --readme\`.`,
    "",
    "## Machine",
    "",
    ...Object.entries(report.machine).filter(([, value]) => value !== undefined).map(([key, value]) =>
      `- ${key}: ${value}`
    ),
    `- wall time of the run: ${Math.round(report.wallSeconds)} s`,
    "",
  ].join("\n");
}
