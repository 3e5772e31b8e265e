import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import type { ScenarioResult } from "../../bench/load-client.ts";
import type { Report, RunReport } from "../../bench/summary.ts";
import { ROOT } from "../helpers/runtimes.ts";

// Keeps `npm run bench` working: a tiny run against two servers, of the bench that `npm run build` compiled into
// dist/bench. No speed is asserted here.
const out = mkdtempSync(path.join(tmpdir(), "edgesocket-bench-smoke-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const SERVERS = ["bun-raw", "bun-edgesocket"];
const SCENARIOS = ["idle", "latency", "throughput", "large", "churn", "broadcast"] as const;

it("runs the bench in --smoke mode and every echo is verified", { timeout: 180_000 }, async () => {
  await promisify(execFile)(process.execPath, ["dist/bench/run.js", "--smoke", "--out", out], {
    cwd: ROOT,
    timeout: 170_000,
  });

  const report: Report = JSON.parse(readFileSync(path.join(out, "latest.json"), "utf8"));
  expect(report.mode).toBe("smoke");
  expect(report.names).toEqual(SERVERS);
  expect(report.machine.cores).toBeGreaterThan(0);
  const runs = (name: string, scenario: (typeof SCENARIOS)[number]) =>
    report.results[name]!.runs[scenario] as ScenarioResult[];
  for (const name of SERVERS) {
    for (const scenario of SCENARIOS) {
      for (const run of runs(name, scenario)) {
        expect(run.verified.ok, `${name} ${scenario}`).toBe(true);
        expect(run.verified.received, `${name} ${scenario}`).toBeGreaterThan(0);
        expect(run.verified.received).toBe(run.verified.sent);
        expect(typeof run.value).toBe("number");
      }
    }
    expect(report.summary[name]!.verified.ok).toBe(true);
  }
  // The throughput runs alternate (smoke: two rounds); the comparison is the median of the per-round ratios.
  const edge = runs("bun-edgesocket", "throughput");
  const raw = runs("bun-raw", "throughput");
  expect(edge).toHaveLength(2);
  const ratios = edge.map((run, round) => run.value / raw[round]!.value).sort((a, b) => a - b);
  const vsRaw = report.summary["bun-edgesocket"]!.vs.raw!;
  expect(vsRaw.throughput).toMatchObject({ n: 2, min: ratios[0], max: ratios[1] });
  expect(vsRaw.throughput!.median).toBeCloseTo((ratios[0]! + ratios[1]!) / 2, 9);
  const cpuRatios = edge.map((run, round) => (raw[round]!.cpuPerMessage as number) / (run.cpuPerMessage as number));
  expect(vsRaw.cpuPerMessage!.median).toBeCloseTo((cpuRatios[0]! + cpuRatios[1]!) / 2, 9);
  const churnCpu = (name: string) => runs(name, "churn")[0]!.cpuPerCycle as number;
  expect(churnCpu("bun-edgesocket")).toBeGreaterThan(0);
  expect(vsRaw.churnCpu!.median).toBeCloseTo(churnCpu("bun-raw") / churnCpu("bun-edgesocket"), 9);
  // The scenarios after idle run on a process started after the idle round's, one process for all of them.
  for (const name of SERVERS) {
    const idlePid = runs(name, "idle")[0]!.serverPid;
    const afterPids = new Set(SCENARIOS.slice(1).flatMap((scenario) => runs(name, scenario).map((r) => r.serverPid)));
    expect(Number.isInteger(idlePid), name).toBe(true);
    expect([...afterPids], name).toHaveLength(1);
    expect(afterPids.has(idlePid), name).toBe(false);
  }
  const idle = runs("bun-edgesocket", "idle")[0]!.value - runs("bun-raw", "idle")[0]!.value;
  expect(vsRaw.idle!.median).toBeCloseTo(idle, 6);

  const markdown = readFileSync(path.join(out, "latest.md"), "utf8");
  for (const name of SERVERS) {
    expect(markdown).toMatch(new RegExp(`^\\| ${name} \\| [\\d,.]+.*\\| ✓ [\\d,]+ \\|$`, "m"));
  }
  expect(markdown).toMatch(
    /^\| bun \| throughput ≥ 0\.97× bun-raw \| [\d.]+× \([\d.]+×–[\d.]+×\), 2 pairs \| (yes|\*\*no\*\*) \|/m,
  );
  expect(markdown).toContain("## Machine");
  expect(readFileSync(path.join(out, "latest.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
});

it("runs the resume scenario in --smoke mode: both routes and the raw floor, every echo and control frame verified", {
  timeout: 120_000,
}, async () => {
  await promisify(execFile)(process.execPath, ["dist/bench/run.js", "--smoke", "--scenarios", "resume", "--out", out], {
    cwd: ROOT,
    timeout: 110_000,
  });

  const report: RunReport = JSON.parse(readFileSync(path.join(out, "resume.json"), "utf8"));
  expect(report.names).toEqual(["bun-edgesocket", "bun-resume", "bun-raw", "bun-rawresume"]);
  for (const name of report.names) {
    // The floor's servers (the raw echo, and the resume protocol by hand on it) are measured in throughput only.
    const floor = name === "bun-raw" || name === "bun-rawresume";
    expect(report.results[name]!.runs.idle, name).toEqual(floor ? undefined : expect.any(Array));
    for (const scenario of floor ? ["throughput"] as const : ["idle", "throughput"] as const) {
      const runs = report.results[name]!.runs[scenario] as ScenarioResult[];
      expect(runs, `${name} ${scenario}`).toHaveLength(2);
      for (const run of runs) {
        expect(run.verified.ok, `${name} ${scenario}`).toBe(true);
        expect(run.verified.received).toBe(run.verified.sent);
      }
    }
  }
  // Idle memory in two rounds, each on processes started for it (their pids differ), with Bun's heap after a full
  // collection beside the RSS (Bun's JavaScriptCore has no young generation of V8's to take out of it).
  const idle = report.results["bun-resume"]!.runs.idle as ScenarioResult[];
  expect(Object.keys(idle[0]!.perProcess as object)).not.toEqual(Object.keys(idle[1]!.perProcess as object));
  // Throughput too, each round on a process started for it: none carries what an idle round left.
  const rounds = [...idle, ...report.results["bun-resume"]!.runs.throughput as ScenarioResult[]];
  expect(new Set(rounds.map((run) => run.serverPid)).size).toBe(4);
  expect(rounds.every((run) => Number.isInteger(run.serverPid))).toBe(true);
  for (const run of idle) {
    expect(run.heap).toEqual(expect.any(Number));
    expect(run.rssLessYoung).toBeUndefined();
  }
  const vs = report.summary["bun-resume"]!.vs.edgesocket!;
  expect(vs.throughput!.n).toBe(2);
  expect(vs.idle!.n).toBe(2);
  expect(vs.idleHeap!.n).toBe(2);
  expect(report.summary["bun-rawresume"]!.vs.raw!.throughput!.n).toBe(2);
  const markdown = readFileSync(path.join(out, "resume.md"), "utf8");
  expect(markdown).toMatch(
    // throughput, CPU per message, then the floor (throughput, CPU per message), then idle memory
    /^\| bun \| [\d.]+× \([\d.]+×–[\d.]+×\), 2 pairs \| [\d.]+× \([^)]*\) \| [\d.]+× \([^)]*\), [\d.]+× \([^)]*\) \| [+-][\d.]+ KiB \([^)]*\), 2 pairs \| not readable \| [+-][\d.]+ KiB \([^)]*\) \| (met|\*\*missed\*\*)/m,
  );
});
