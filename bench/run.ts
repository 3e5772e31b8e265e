#!/usr/bin/env node
/**
 * `npm run bench`: compiles bench/ into dist/bench (bench/tsconfig.json; `npm run build` does it too), then runs this file.
 * For each runtime it starts all its echo servers, pinned to one core, and drives them in turn from the other
 * core with the load client: every scenario in alternating rounds (raw, edgesocket, hono, crossws, then the
 * reverse order, and so on), so each comparison is between runs seconds apart. Writes
 * bench/results/latest.{md,svg,json}; `--readme` also writes the tables into the performance document, and
 * `--rewrite` writes all that again from latest.json without running anything (after a change of the report's form).
 * `--scenarios resume` runs the resume scenario (bench/resume.ts) into bench/results/resume.{md,json} instead, and
 * `--scenarios fanout` the fan-out benchmark (bench/fanout/).
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, type RunningServer } from "../test/helpers/runtimes.ts";
import { type Args, mainServers, parseArgs, resumeSelection, runsMainScenarios, selectedScenarios } from "./cli.ts";
import type { ScenarioResult } from "./load-client.ts";
import { findTools, machineInfo, type Tools } from "./machine.ts";
import { groupPids } from "./proc.ts";
import { markdown, svg, updateDocs } from "./report.ts";
import { comparedKinds, resumeMarkdown, updateResumeDoc } from "./resume.ts";
import {
  BROADCAST_NOTE,
  BROADCAST_SERVERS,
  paramsFor,
  RUNNER_PARAMS,
  type ScenarioName,
  type ScenarioParams,
  type ScenarioRun,
} from "./scenarios.ts";
import {
  CLIENT_CPU,
  type Kind,
  missingTool,
  parseServerName,
  RUNTIMES,
  startBenchServer,
  stopBenchServer,
} from "./servers.ts";
import { type Report, type RunReport, type ServerResults, summarize } from "./summary.ts";

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * workerd's heap is read through its inspector (under `wrangler dev`), which the load client reaches on Bun only; the
 * other runtimes' through `GET /bench/heap`. On a Node load client workerd's idle rounds go without it.
 */
function workerdHeap(name: string, server: RunningServer, params: ScenarioParams, tools: Tools): ScenarioParams {
  if (!params.heap || parseServerName(name).runtime !== "workerd") return params;
  if (tools.client.runtime !== "bun") {
    const { heap: _notWithoutBun, ...rest } = params;
    return rest;
  }
  return { ...params, inspector: server.inspectorPort };
}

/** Runs the load client once against `server`; resolves with its result or why it failed. */
export function runClient(
  scenario: ScenarioName,
  name: string,
  server: RunningServer,
  params: ScenarioParams,
  tools: Tools,
) {
  const args = [path.join(ROOT, "dist", "bench", "load-client.js"), scenario, "--port", String(server.port)];
  args.push("--pids", [...groupPids(server.pid)].join(","));
  for (const [key, value] of Object.entries(workerdHeap(name, server, params, tools))) {
    if (!RUNNER_PARAMS.includes(key)) args.push(`--${key}`, String(value));
  }
  const [command, fullArgs] = tools.pinned
    ? ["taskset", ["-c", String(CLIENT_CPU), tools.client.command, ...args]]
    : [tools.client.command, args];
  return new Promise<ScenarioRun>((resolve) => {
    const child = spawn(command, fullArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      let result: ScenarioResult | undefined;
      try {
        result = JSON.parse(stdout.trim().split("\n").pop() ?? "");
      } catch {
        // no JSON line: reported below from stderr
      }
      if (code === 0 && result?.verified?.ok) return resolve(result);
      const failed = result
        ? `echo check failed: ${JSON.stringify(result.verified)}`
        : stderr.trim().split("\n").pop() || `exit ${code}`;
      resolve({ ...result, value: undefined, failed });
    });
  });
}

function brief(run: ScenarioRun): string {
  return "failed" in run ? `FAILED (${run.failed})` : `${Math.round(run.value * 10) / 10} ${run.unit}`;
}

/**
 * One runtime's servers, all started at once: every scenario in rounds that alternate the order of the servers,
 * so that each pair compared ran seconds apart, with first and second place swapped from round to round. A scenario
 * with `fresh` (idle memory; the resume scenario's throughput too) runs each round on a process that served nothing
 * before, started for it unless the server has not served yet. The scenarios after it start on processes started
 * anew too: on Node a process that just served the idle rounds' thousands of connections costs up to twice as much per
 * message (V8's grown young generation; docs/performance.md), and not every process of a run lands in that state.
 */
async function runGroup(names: string[], scenarios: [ScenarioName, ScenarioParams][], context: RunContext) {
  const running = new Map<string, RunningServer>();
  const served = new Set<string>();
  const servedFresh = new Set<string>();
  await Promise.all(names.map(async (name) => {
    const server = await start(name, context);
    if (server) running.set(name, server);
  }));
  try {
    const started = names.filter((name) => running.has(name));
    for (const [scenario, params] of scenarios) {
      const taking = started.filter((name) => paramsFor(scenario, name, params));
      if (!params.fresh) {
        const leaving = taking.filter((name) => servedFresh.delete(name));
        await Promise.all(leaving.map((name) => restart(name, running, context)));
      }
      for (let round = 0; round < params.repeats; round++) {
        for (const name of round % 2 === 0 ? taking : [...taking].reverse()) {
          const serverParams = paramsFor(scenario, name, params)!;
          if (round >= serverParams.repeats) continue; // fewer rounds on this server (workerd's idle)
          if (params.fresh && served.has(name)) await restart(name, running, context);
          const server = running.get(name);
          if (!server) continue;
          served.add(name);
          if (params.fresh) servedFresh.add(name);
          const run = await runClient(scenario, name, server, serverParams, context.tools);
          if (!("failed" in run)) run.serverPid = server.pid;
          (context.results[name]!.runs[scenario] ??= [])[round] = run;
          log(`  ${scenario} round ${round + 1} ${name}: ${brief(run)}`);
        }
      }
    }
  } finally {
    await Promise.all([...running.values()].map(stopBenchServer));
  }
}

/**
 * Replaces server `name` of `running` by a process started anew (a scenario with `fresh`: each round on a server that
 * served nothing before); one that fails to start is left out of `running`.
 */
async function restart(name: string, running: Map<string, RunningServer>, context: RunContext): Promise<void> {
  const old = running.get(name);
  if (!old) return;
  running.delete(name);
  await stopBenchServer(old);
  const server = await start(name, context);
  if (server) running.set(name, server);
}

/**
 * Starts a server, a second time if the first fails (on this busy machine a wrangler start fails now and then
 * without a word); a server that fails twice is reported, with its output in bench/results/raw/<name>.log.
 */
async function start(name: string, context: RunContext): Promise<RunningServer | undefined> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startBenchServer(name, context.tools, context.scratch);
    } catch (error) {
      const message = String((error as Error).message);
      const logFile = path.join(LOG_DIR, `${name}.log`);
      mkdirSync(LOG_DIR, { recursive: true });
      writeFileSync(logFile, message);
      log(`  ${name}: start ${attempt} failed: ${message.split("\n")[0]} (output in ${path.relative(ROOT, logFile)})`);
      if (attempt === 2) {
        context.results[name]!.error = message.split("\n")[0];
        return undefined;
      }
    }
  }
}

const LOG_DIR = path.join(ROOT, "bench", "results", "raw");

interface RunContext {
  tools: Tools;
  scratch: string;
  results: Record<string, ServerResults>;
}

/**
 * Runs `scenarios` on the servers `wanted`, runtime by runtime (a server whose runtime is missing is skipped), each
 * compared with the servers of its runtime of the kinds `compared(name)`; the report of the run without a broadcast
 * note.
 */
async function measure(
  mode: Args["mode"],
  wanted: readonly string[],
  scenarios: [ScenarioName, ScenarioParams][],
  tools: Tools,
  compared?: (name: string) => readonly Kind[],
): Promise<RunReport> {
  const skipped: Record<string, string> = {};
  const started = Date.now();
  const machine = machineInfo(tools);
  const names: string[] = [];
  for (const name of wanted) {
    const reason = missingTool(name, tools);
    if (reason) skipped[name] = reason;
    else names.push(name);
  }
  const results: Record<string, ServerResults> = Object.fromEntries(names.map((name) => [name, { runs: {} }]));
  const scratch = mkdtempSync(path.join(os.tmpdir(), "edgesocket-bench-"));
  log(`bench: ${mode}, ${names.length} servers, client on ${tools.client.runtime}${tools.pinned ? ", pinned" : ""}`);
  try {
    for (const runtime of RUNTIMES) {
      const group = names.filter((name) => parseServerName(name).runtime === runtime);
      if (group.length === 0) continue;
      const groupStart = Date.now();
      await runGroup(group, scenarios, { tools, scratch, results });
      log(`bench: ${runtime} done in ${Math.round((Date.now() - groupStart) / 1000)} s`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const summary = summarize(results, names, compared);
  const broken = names.filter((name) => !summary[name]!.verified.ok);
  if (broken.length > 0) log(`bench: echo checks failed or servers did not start: ${broken.join(", ")}`);
  return {
    mode,
    machine,
    params: Object.fromEntries(scenarios),
    names,
    skipped,
    results,
    summary,
    wallSeconds: (Date.now() - started) / 1000,
  };
}

function writeReport(report: Report, args: Args, tools: Tools): void {
  mkdirSync(args.out, { recursive: true });
  const md = markdown(report);
  writeFileSync(path.join(args.out, "latest.md"), md);
  writeFileSync(path.join(args.out, "latest.svg"), svg(report));
  writeFileSync(path.join(args.out, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  if (args.docs) updateDocs(report, tools.deno);
  process.stdout.write(md);
}

/** Writes `<out>/resume.{json,md}` and, with `--readme`, the performance document's resume block. */
function writeResumeReport(report: RunReport, args: Args, tools: Tools): void {
  mkdirSync(args.out, { recursive: true });
  const md = resumeMarkdown(report);
  writeFileSync(path.join(args.out, "resume.md"), md);
  writeFileSync(path.join(args.out, "resume.json"), `${JSON.stringify(report, null, 2)}\n`);
  if (args.docs) updateResumeDoc(report, tools.deno);
  process.stdout.write(md);
}

/** `--scenarios resume`: each runtime's plain route against its resume route (bench/resume.ts). */
async function runResumeScenario(args: Args, tools: Tools): Promise<void> {
  const { servers, scenarios } = resumeSelection(args);
  writeResumeReport(await measure(args.mode, servers, scenarios, tools, comparedKinds), args, tools);
}

/** `--scenarios fanout`: the fan-out benchmark's own command line (compiled by `npm run bench`), quick if asked. */
function runFanoutBenchmark(args: Args): Promise<void> {
  const cli = path.join(ROOT, "dist", "bench", "fanout", "cli.js");
  // A quick run checks that everything runs: its figures do not replace the committed full run's.
  const quick = ["--quick", "--out", path.join(os.tmpdir(), "edgesocket-fanout-quick")];
  const child = spawn(process.execPath, [cli, ...(args.mode === "full" ? [] : quick)], { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once(
      "exit",
      (code) => (code === 0 ? resolve() : reject(new Error(`the fan-out benchmark exited with ${code}`))),
    );
  });
}

function readReport<T>(args: Args, file: string): T {
  return JSON.parse(readFileSync(path.join(args.out, file), "utf8"));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tools = findTools();
  if (args.rewrite) {
    if (args.resume) writeResumeReport(readReport(args, "resume.json"), args, tools);
    if (runsMainScenarios(args)) writeReport(readReport(args, "latest.json"), args, tools);
    return;
  }
  if (args.fanout) await runFanoutBenchmark(args);
  if (args.resume) await runResumeScenario(args, tools);
  if (!runsMainScenarios(args)) return;
  const scenarios = selectedScenarios(args);
  const run = await measure(args.mode, mainServers(args), scenarios, tools);
  writeReport({ ...run, broadcast: { servers: BROADCAST_SERVERS, note: BROADCAST_NOTE } }, args, tools);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(error?.stack ?? error);
    process.exit(1);
  });
}
