/**
 * What a run writes: the Markdown report, the block of the performance document (tables and targets), and the
 * SVG chart.
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../test/helpers/runtimes.ts";
import { BROADCAST_NOTE, describeScenario, type Metric, metric, METRICS, type ScenarioName } from "./scenarios.ts";
import { BASE_KIND, EDGESOCKET_RUNTIMES, type Kind, parseServerName, type Runtime } from "./servers.ts";
import type { Spread } from "./stats.ts";
import type { Report, RunReport, ServerSummary } from "./summary.ts";

/** The document whose block between {@link DOC_START} and {@link DOC_END} `--readme` rewrites (from the root). */
export const PERFORMANCE_DOC = "docs/performance.md";
/** The line that opens the generated block. */
export const DOC_START = "<!-- bench:start (written by `npm run bench -- --readme`) -->";
/** How an opening line of the block starts, whichever command it names. */
const DOC_START_PREFIX = "<!-- bench:start";
/** The line that closes the generated block. */
export const DOC_END = "<!-- bench:end -->";

// --- numbers ---

/** A figure as the tables show it: thousands separated, `digits` below 1,000, "–" when missing. */
export const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || !Number.isFinite(value)
    ? "–"
    : value >= 1000
    ? Math.round(value).toLocaleString("en-US")
    : value.toFixed(digits);
/** A ratio: `0.98×`. */
export const times = (value: number): string => `${value.toFixed(2)}×`;
/** A difference in bytes: `+1.25 KiB`. */
export const kib = (bytes: number): string => `${bytes >= 0 ? "+" : ""}${(bytes / 1024).toFixed(2)} KiB`;
/** `0.98× (0.95–1.01)`: a paired comparison, its median and the range of its pairs. */
export const pairedText = (s: Spread | undefined, unit: (v: number) => string = times): string =>
  s === undefined ? "–" : s.n > 1 ? `${unit(s.median)} (${unit(s.min)}–${unit(s.max)})` : unit(s.median);

/** Decimals of each metric below 1,000 (1 where not listed). */
export const DIGITS: Record<string, number> = { large: 0, largeFaults: 2, broadcast: 2, cpuPerMessage: 3 };

/** The server `name` is compared with in the tables: its runtime's base (none for the base itself). */
function baseName(name: string): string | undefined {
  const { runtime, kind } = parseServerName(name);
  return kind === BASE_KIND[runtime] ? undefined : `${runtime}-${BASE_KIND[runtime]}`;
}

/** A server's median of `m`, with (in parentheses) its paired comparison with `base` (its runtime's base). */
function cell(s: ServerSummary, name: string, m: Metric, base = baseName(name)): string {
  const value = fmt(s.medians[m.key]?.median, DIGITS[m.key] ?? 1);
  const vs = base ? s.vs[parseServerName(base).kind]?.[m.key]?.median : undefined;
  return vs === undefined ? value : `${value} (${m.difference ? kib(vs) : times(vs)})`;
}

// --- tables ---

/**
 * A row per server: the median of each of `metrics`, with its paired comparison with the server `baseOf(name)`
 * (by default its runtime's base), and the echo check.
 */
export function resultsTable(
  { summary, names, skipped }: Pick<RunReport, "summary" | "names" | "skipped">,
  metrics: readonly Metric[] = METRICS,
  baseOf: (name: string) => string | undefined = baseName,
): string[] {
  const lines = [
    `| server | ${metrics.map((m) => m.label).join(" | ")} | echoes verified |`,
    `|---|${metrics.map(() => "---:").join("|")}|---|`,
  ];
  const dashes = metrics.map(() => "–").join(" | ");
  for (const name of names) {
    const s = summary[name]!;
    if (s.error) {
      lines.push(`| ${name} | ${dashes} | FAILED to start: ${s.error} |`);
      continue;
    }
    const check = s.verified.ok ? `✓ ${s.verified.echoes.toLocaleString("en-US")}` : `✗ ${s.failures.join("; ")}`;
    lines.push(`| ${name} | ${metrics.map((m) => cell(s, name, m, baseOf(name))).join(" | ")} | ${check} |`);
  }
  for (const [name, reason] of Object.entries(skipped)) lines.push(`| ${name} | ${dashes} | ${reason} |`);
  return lines;
}

const PAIRED_KEYS = ["throughput", "cpuPerMessage", "latency50", "latency99", "large", "churn", "churnCpu", "idle"];

/** edgesocket against each other server of its runtime: median of the paired comparisons and their range. */
function pairedTable({ summary, names }: Report): string[] {
  const metrics = PAIRED_KEYS.map(metric);
  const lines = [
    `| runtime | edgesocket vs | ${
      metrics.map((m) => m.label.replace(/ (msg\/s|µs\/msg|µs\/cycle|µs|MB\/s|conn\/s|B\/conn)$/, "")).join(" | ")
    } |`,
    `|---|---|${metrics.map(() => "---:").join("|")}|`,
  ];
  for (const name of names.filter((n) => parseServerName(n).kind === "edgesocket")) {
    const { runtime } = parseServerName(name);
    for (const [kind, comparison] of Object.entries(summary[name]!.vs)) {
      const cells = metrics.map((m) => pairedText(comparison[m.key], m.difference ? kib : times));
      lines.push(`| ${runtime} | ${kind} | ${cells.join(" | ")} |`);
    }
  }
  return lines;
}

// --- targets ---

/** Ratios to raw of the 64 KiB echo and of churn in the last full run before the issue-15 work (2026-11-26). */
const BASELINE_VS_RAW: Record<string, Record<"large" | "churn", number>> = {
  bun: { large: 0.65, churn: 0.92 },
  deno: { large: 0.98, churn: 0.98 },
  workerd: { large: 1.01, churn: 0.96 },
  node: { large: 0.9, churn: 0.91 },
};

/** edgesocket's throughput and CPU per message against its runtime's base. */
const AT_LEAST_BASE = 0.97;
/** Idle memory per connection above the base's. */
const IDLE_ALLOWANCE = 1024;

/** A target of issue 15 with what the run measured. */
export interface TargetRow {
  runtime: Runtime;
  target: string;
  measured: string;
  met: boolean | undefined;
  /** Where it is not met: the figures that say why. */
  why: string;
}

function medianOf(s: ServerSummary | undefined, key: string): number | undefined {
  return s?.medians[key]?.median;
}

/** A core counts as used up above this share. */
const SATURATED = 0.9;

/** What limited the throughput window of `edge` (named `edgeName`), from the CPU each side used. */
function limit(edge: ServerSummary, edgeName: string): string {
  const server = edge.cpu.server?.median ?? 0;
  const client = edge.cpu.client?.median ?? 0;
  if (client >= SATURATED) return "the load client was the limit";
  if (server >= SATURATED) return `${edgeName}'s server used its whole core`;
  const other = edge.cpu.other?.median ?? 0;
  if (other < BUSY) {
    return `neither side used its whole core, and other processes only ${fmt(other, 2)}: the server waited`;
  }
  return `neither side used its whole core while other processes used ${
    fmt(other, 2)
  } cores: the machine's other load set the pace`;
}

/** Other processes using this many cores (of the machine's 2) make the machine's load a cause. */
const BUSY = 0.5;

/**
 * Who did the work in the throughput window: each server's cores and CPU per message, the client's, the verdict.
 * `edge` is the server under test, named `edgeName`.
 */
export function throughputWhy(edge: ServerSummary, other: ServerSummary, otherName: string, edgeName = "edgesocket") {
  const cores = (s: ServerSummary) => fmt(s.cpu.server?.median, 2);
  return `${edgeName} ${cores(edge)} cores at ${fmt(medianOf(edge, "cpuPerMessage"), 3)} µs/msg, ${otherName} ${
    cores(other)
  } cores at ${fmt(medianOf(other, "cpuPerMessage"), 3)} µs/msg, client ${fmt(edge.cpu.client?.median, 2)} cores; ${
    limit(edge, edgeName)
  }`;
}

/** Both servers' medians of the metric `key`: why a comparison of them missed its target. */
export function compareWhy(
  edge: ServerSummary,
  other: ServerSummary,
  otherName: string,
  key: string,
  edgeName = "edgesocket",
): string {
  const m = metric(key);
  return `medians: ${edgeName} ${fmt(medianOf(edge, key), DIGITS[key] ?? 1)}, ${otherName} ${
    fmt(medianOf(other, key), DIGITS[key] ?? 1)
  } ${m.label.split(" ").pop()}`;
}

/** The server's CPU per churn cycle beside conn/s: both medians, and paired (the base's CPU ÷ edgesocket's). */
function churnCpuWhy(
  edge: ServerSummary,
  base: ServerSummary,
  baseLabel: string,
  vsBase: Record<string, Spread | undefined>,
): string {
  const cpu = vsBase.churnCpu;
  if (!cpu) return "";
  return `; server CPU per cycle, ${compareWhy(edge, base, baseLabel, "churnCpu")}; paired, ${baseLabel}'s CPU ÷ ` +
    `edgesocket's: ${pairedText(cpu)}`;
}

/** The server's page faults per 64 KiB message beside MB/s, where the run read them. */
function largeFaultsWhy(edge: ServerSummary, base: ServerSummary, baseLabel: string): string {
  if (medianOf(edge, "largeFaults") === undefined || medianOf(base, "largeFaults") === undefined) return "";
  return `; server page faults per message (mostly memory the allocator gave back and took again), ${
    compareWhy(edge, base, baseLabel, "largeFaults")
  }`;
}

/**
 * A target's row: `value` (a paired comparison) against `met`, and where it is missed, `why()` (and whether some
 * pairs met it).
 */
export function row(
  runtime: Runtime,
  target: string,
  value: Spread | undefined,
  met: (v: number) => boolean,
  why: () => string,
  unit: (v: number) => string = times,
): TargetRow {
  if (value === undefined) return { runtime, target, measured: "not measured", met: undefined, why: "" };
  const ok = met(value.median);
  const spreadNote = !ok && value.n > 1 && met(value.max) ? "; some pairs met it" : "";
  return {
    runtime,
    target,
    measured: `${measuredText(value, unit, ok, met)}${value.n > 1 ? `, ${value.n} pairs` : ""}`,
    met: ok,
    why: ok ? "" : why() + spreadNote,
  };
}

/**
 * `value` as {@link pairedText} writes it, except a ratio that misses its target by less than its rounding: its median
 * gets a third decimal, rounded down (every ratio target is a floor), so that a miss never reads "0.97×" against 0.97×.
 */
function measuredText(value: Spread, unit: (v: number) => string, ok: boolean, met: (v: number) => boolean): string {
  if (unit !== times || ok || !met(Number(value.median.toFixed(2)))) return pairedText(value, unit);
  const median = `${(Math.floor(value.median * 1000) / 1000).toFixed(3)}×`;
  return value.n > 1 ? `${median} (${times(value.min)}–${times(value.max)})` : median;
}

/** The targets of issue 15 for each runtime, as this run measured them. */
export function targetRows({ summary }: Pick<Report, "summary">): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const runtime of EDGESOCKET_RUNTIMES) {
    const edge = summary[`${runtime}-edgesocket`];
    if (!edge) continue;
    const baseKind: Kind = BASE_KIND[runtime];
    const base = `${runtime}-${baseKind}`;
    const vsBase = edge.vs[baseKind];
    const baseSummary = summary[base];
    if (vsBase && baseSummary) {
      const atLeast = (v: number) => v >= AT_LEAST_BASE;
      rows.push(
        row(
          runtime,
          `throughput ≥ ${AT_LEAST_BASE}× ${base}`,
          vsBase.throughput,
          atLeast,
          () => throughputWhy(edge, baseSummary, base),
        ),
      );
      rows.push(
        row(
          runtime,
          `server CPU per message ≥ ${AT_LEAST_BASE}× ${base} (its CPU ÷ ours)`,
          vsBase.cpuPerMessage,
          atLeast,
          () => throughputWhy(edge, baseSummary, base),
        ),
      );
      const noRegression = (scenario: "large" | "churn", label: string, why: () => string) => {
        const floor = Math.min(AT_LEAST_BASE, BASELINE_VS_RAW[runtime]![scenario]);
        return row(runtime, `${label} ≥ ${floor}× ${base} (no regression)`, vsBase[scenario], (v) => v >= floor, why);
      };
      rows.push(
        noRegression(
          "large",
          "64 KiB binary echo",
          () => `${compareWhy(edge, baseSummary, base, "large")}${largeFaultsWhy(edge, baseSummary, base)}`,
        ),
        noRegression(
          "churn",
          "churn",
          () => `${compareWhy(edge, baseSummary, base, "churn")}${churnCpuWhy(edge, baseSummary, base, vsBase)}`,
        ),
      );
      rows.push(
        row(
          runtime,
          `idle memory ≤ ${base} + 1 KiB per connection`,
          vsBase.idle,
          (v) => v <= IDLE_ALLOWANCE,
          () => `${compareWhy(edge, baseSummary, base, "idle")}${idleWhy(vsBase)}`,
          kib,
        ),
      );
    }
    for (const kind of ["hono", "crossws"] as const) {
      const other = summary[`${runtime}-${kind}`];
      const vs = edge.vs[kind];
      if (!other || !vs) continue;
      const name = `${runtime}-${kind}`;
      rows.push(
        row(
          runtime,
          `throughput ≥ 1.00× ${name}`,
          vs.throughput,
          (v) => v >= 1,
          () => throughputWhy(edge, other, name),
        ),
      );
      for (const key of ["latency50", "latency99"]) {
        const label = key === "latency50" ? "latency p50" : "latency p99";
        rows.push(
          row(runtime, `${label} ≥ 1.00× ${name}`, vs[key], (v) => v >= 1, () => compareWhy(edge, other, name, key)),
        );
      }
    }
  }
  return rows;
}

/** What an idle connection keeps, where the run read it: the JS heap after a full collection, the RSS less V8's young generation. */
function idleWhy(vs: Record<string, Spread | undefined>): string {
  const parts = [
    vs.idleHeap && `JS heap after a full collection ${pairedText(vs.idleHeap, kib)}`,
    vs.idleLessYoung && `RSS less V8's young generation ${pairedText(vs.idleLessYoung, kib)}`,
  ].filter(Boolean);
  return parts.length > 0 ? `; per connection, paired: ${parts.join(", ")}` : "";
}

const IDLE_KEYS = ["idle", "idleLessYoung", "idleHeap"];

/**
 * Idle memory per connection, each server against its runtime's base, paired round by round: the RSS (the target's
 * figure), the RSS less V8's young generation (Deno, Node) and the JS heap after a full collection (every runtime).
 */
function idleTable({ summary, names }: Pick<Report, "summary" | "names">): string[] {
  const metrics = IDLE_KEYS.map(metric);
  const lines = [
    `| server | ${metrics.map((m) => m.label.replace(/ B\/conn$/, "").replace(/^idle$/, "RSS")).join(" | ")} |`,
    `|---|${metrics.map(() => "---:").join("|")}|`,
  ];
  for (const name of names) {
    const s = summary[name]!;
    const base = baseName(name);
    const vs = base ? s.vs[parseServerName(base).kind] : undefined;
    const cells = metrics.map((m) => {
      const value = s.medians[m.key]?.median;
      if (value === undefined) return "–";
      const paired = vs?.[m.key];
      return `${fmt(value, 0)}${paired ? `: ${pairedText(paired, kib)}` : ""}`;
    });
    if (cells.some((c) => c !== "–")) lines.push(`| ${name} | ${cells.join(" | ")} |`);
  }
  return lines;
}

function targetsTable(report: Pick<Report, "summary">): string[] {
  const lines = [
    "| runtime | target | measured (median of pairs, range) | met | why not (measured) |",
    "|---|---|---:|---|---|",
  ];
  for (const r of targetRows(report)) {
    const met = r.met === undefined ? "–" : r.met ? "yes" : "**no**";
    lines.push(`| ${r.runtime} | ${r.target} | ${r.measured} | ${met} | ${r.why} |`);
  }
  return lines;
}

// --- documents ---

const METHOD =
  "Each runtime's servers run at the same time, pinned to one core, and are measured in turn from the other core, " +
  "in rounds that alternate their order (raw, edgesocket, hono, crossws, then the reverse), so that the runs " +
  "compared lie seconds apart. Figures are medians over the rounds; in parentheses, the ratio to the runtime's base " +
  "server (raw; on Node `node-rawtext`, raw `ws` decoding text to a string as every string API does), taken round " +
  "by round and then the median, above 1.00× is better; for idle memory, the difference to the base. The idle rounds " +
  "run first, each on processes started for it, and the other scenarios on processes started after them: a process " +
  "that served the idle rounds' thousands of connections can cost up to twice as much per message (on Node, V8's " +
  "collector), and not every process lands in that state.";

/** The results table, the paired comparisons and the targets, each section under `heading(title)`. */
function resultsAndTargets(report: Report, heading: (title: string) => string): string[] {
  return [
    ...resultsTable(report),
    "",
    heading("edgesocket against each server of its runtime, paired round by round (median of the pairs, their range)"),
    "",
    ...pairedTable(report),
    "",
    heading(
      "Idle memory per connection in B, medians over the rounds (after the colon, in KiB: against the runtime's base, paired round by round, median and range)",
    ),
    "",
    ...idleTable(report),
    "",
    heading("Targets (issue 15), as measured in the same run"),
    "",
    ...targetsTable(report),
  ];
}

/** The performance document's block for `report`: a line on the run, the results, the paired comparisons and the targets. */
export function readmeBlock(report: Report): string {
  const { machine, wallSeconds } = report;
  const throughput = report.params.throughput;
  return [
    DOC_START,
    "",
    `The run below: ${String(machine.date).slice(0, 10)}, ${throughput?.repeats ?? 0} rounds of throughput in ${
      Math.round(wallSeconds / 60)
    } minutes, ${machine.cores}-core ${machine.cpu}, Node ${
      String(machine.node).replace(/^v/, "")
    }, Bun ${machine.bun}, Deno ${
      String(machine.deno).split(" ")[1]
    }, workerd ${machine.workerd} under \`wrangler dev\` ${machine.wrangler}. ${METHOD}`,
    "",
    ...resultsAndTargets(report, (title) => `${title}:`),
    "",
    DOC_END,
  ].join("\n");
}

/** The README, whose block between {@link SUMMARY_START} and {@link SUMMARY_END} `--readme` rewrites. */
export const README = "README.md";
/** Where the README's summary of the targets starts. */
export const SUMMARY_START = "<!-- bench:summary:start (written by `npm run bench -- --readme`) -->";
/** Where the README's summary of the targets ends. */
export const SUMMARY_END = "<!-- bench:summary:end -->";

/**
 * The README's summary of a full run: per runtime, how many targets of issue 15 it met and what it measured where it
 * missed one. The reasons are in the performance document's targets table.
 */
export function readmeSummary(report: Report): string {
  const rows = targetRows(report).filter((r) => r.met !== undefined);
  const lines = [
    SUMMARY_START,
    "",
    `The last full run, ${String(report.machine.date).slice(0, 10)}: each figure the median of paired rounds, with ` +
    "their range where there are several; why each miss, measured, and every figure: " +
    "[docs/performance.md](docs/performance.md).",
    "",
    "| runtime | targets met | missed: target, measured |",
    "|---|---:|---|",
  ];
  for (const runtime of new Set(rows.map((r) => r.runtime))) {
    const own = rows.filter((r) => r.runtime === runtime);
    const missed = own.filter((r) => !r.met).map((r) => `${r.target}: ${r.measured}`);
    lines.push(`| ${runtime} | ${own.length - missed.length} of ${own.length} | ${missed.join("; ") || "–"} |`);
  }
  return [...lines, "", SUMMARY_END].join("\n");
}

/**
 * Replaces the performance document's block with this run's tables and, after a full run of every runtime, the
 * README's summary with this run's (`deno`: to align them as `deno fmt` does).
 */
export function updateDocs(report: Report, deno: string | undefined): void {
  replaceDocBlock(
    PERFORMANCE_DOC,
    { start: DOC_START, startPrefix: DOC_START_PREFIX, end: DOC_END },
    readmeBlock(report),
    deno,
  );
  const everyRuntime = EDGESOCKET_RUNTIMES.every((runtime) => report.summary[`${runtime}-edgesocket`]);
  if (report.mode !== "full" || !everyRuntime) return;
  const summary = readmeSummary(report);
  replaceDocBlock(README, { start: SUMMARY_START, startPrefix: SUMMARY_START, end: SUMMARY_END }, summary, deno);
}

/**
 * Replaces the block of the document `doc` (from the root) from the line starting with `startPrefix` to `end` with
 * `block`, then formats the document with `deno` (`deno fmt --check` runs in `npm test`).
 */
export function replaceDocBlock(
  doc: string,
  markers: { start: string; startPrefix: string; end: string },
  block: string,
  deno: string | undefined,
): void {
  const file = path.join(ROOT, doc);
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(markers.startPrefix);
  const end = text.indexOf(markers.end);
  if (start < 0 || end < start) throw new Error(`${doc} has no ${markers.start} … ${markers.end} block`);
  writeFileSync(file, text.slice(0, start) + block + text.slice(end + markers.end.length));
  if (deno) spawnSync(deno, ["fmt", file], { cwd: ROOT, stdio: "ignore" });
}

/** Per server: the CPU each side used in the throughput window, and the server's CPU per message. */
export function cpuTable({ summary, names }: Pick<RunReport, "summary" | "names">): string[] {
  const lines = [
    "| server | server CPU cores | client CPU cores | others | server CPU µs per message |",
    "|---|---:|---:|---:|---:|",
  ];
  for (const name of names) {
    const s = summary[name]!;
    if (s.cpu.server === undefined) continue;
    lines.push(
      `| ${name} | ${fmt(s.cpu.server.median, 2)} | ${fmt(s.cpu.client?.median, 2)} | ${
        fmt(s.cpu.other?.median, 2)
      } | ${cell(s, name, METRICS.find((m) => m.key === "cpuPerMessage")!)} |`,
    );
  }
  return lines;
}

function broadcastTable(report: Report): string[] {
  const lines = [
    "| server | subscribers | median ms | min ms | server CPU ms per broadcast | client CPU ms per broadcast |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const name of report.names) {
    const [run] = report.results[name]!.runs.broadcast ?? [];
    if (!run || "failed" in run) continue;
    const n = (key: string) => run[key] as number | undefined;
    lines.push(
      `| ${name} | ${fmt(n("subscribers"))} | ${fmt(run.value, 2)} | ${fmt(n("min"), 2)} | ${
        fmt(n("serverCpuMs"), 2)
      } | ${fmt(n("clientCpuMs"), 2)} |`,
    );
  }
  return lines;
}

/** The full Markdown report of a run (bench/results/latest.md). */
export function markdown(report: Report): string {
  const { machine, mode, params, wallSeconds } = report;
  return [
    `# edgesocket benchmark (${mode})`,
    "",
    METHOD,
    "",
    ...resultsAndTargets(report, (title) => `## ${title}`),
    "",
    "## Who was the limit (throughput scenario)",
    "",
    "CPU used during the throughput window, in cores (median over the rounds). The servers share one core, the client has the other; " +
    "a server near 1.00 is the bottleneck, a client near 1.00 means the figure is a lower bound. 'others' is everything else on the machine (noise).",
    "",
    ...cpuTable(report),
    "",
    "## Broadcast",
    "",
    BROADCAST_NOTE,
    "",
    ...broadcastTable(report),
    "",
    "## Scenarios",
    "",
    ...Object.entries(params).map(([scenario, p]) => describeScenario(scenario as ScenarioName, p)),
    "- Every echo is checked by the client: opcode, length and bytes; the count of echoes must equal the count sent. A server that fails a check shows ✗ and its figures are not used.",
    "",
    "## Machine",
    "",
    ...Object.entries(machine).filter(([, value]) => value !== undefined).map(([key, value]) => `- ${key}: ${value}`),
    `- wall time of the run: ${Math.round(wallSeconds)} s`,
    "",
  ].join("\n");
}

// --- chart ---

const KIND_COLORS: Record<string, string> = {
  raw: "#7f8c8d",
  rawtext: "#95a5a6",
  edgesocket: "#e67e22",
  hono: "#3498db",
  crossws: "#9b59b6",
  tornado: "#27ae60",
};

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/** One panel per metric: a bar per server, its median, and its paired comparison with its runtime's base. */
export function svg(report: Report): string {
  const { summary, names, mode, machine } = report;
  const shown = names.filter((name) => !summary[name]!.error);
  const width = 920;
  const labelWidth = 150;
  const barMax = 560;
  const rowHeight = 18;
  let y = 50;
  const parts = [
    `<text x="10" y="22" font-size="16" font-weight="bold">edgesocket benchmark (${
      escapeXml(mode)
    }) — medians; (×) = paired vs the runtime's base server, above 1 is better</text>`,
    `<text x="10" y="40" font-size="11" fill="#555">${
      escapeXml(`${machine.cpu}, ${machine.cores} cores, ${machine.os}; ${machine.date}`)
    }</text>`,
  ];
  for (const m of METRICS) {
    const values = shown.map((name) => summary[name]!.medians[m.key]?.median ?? 0).filter((v) => v > 0);
    if (values.length === 0) continue;
    const max = Math.max(...values);
    y += 24;
    parts.push(
      `<text x="10" y="${y}" font-size="14" font-weight="bold">${escapeXml(m.label)}${
        m.higher ? " (higher is better)" : " (lower is better)"
      }</text>`,
    );
    y += 8;
    for (const name of shown) {
      const s = summary[name]!;
      const value = s.medians[m.key]?.median ?? 0;
      const barWidth = value > 0 ? Math.max(1, (value / max) * barMax) : 0;
      const text = s.verified.ok ? cell(s, name, m) : "✗ echo check failed";
      parts.push(
        `<text x="${labelWidth - 6}" y="${y + 13}" font-size="12" text-anchor="end">${escapeXml(name)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${barWidth.toFixed(1)}" height="${rowHeight - 5}" fill="${
          KIND_COLORS[parseServerName(name).kind] ?? "#444"
        }"/>`,
        `<text x="${labelWidth + barWidth + 6}" y="${y + 13}" font-size="11">${escapeXml(text)}</text>`,
      );
      y += rowHeight;
    }
  }
  y += 20;
  parts.push(`<text x="10" y="${y}" font-size="11" fill="#555">${escapeXml(BROADCAST_NOTE)}</text>`);
  y += 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${
    parts.join("\n")
  }\n</svg>\n`;
}
