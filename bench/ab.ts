#!/usr/bin/env node
/**
 * Two builds of one Node bench server, in alternating pairs, one server at a time: what a change to the code costs
 * or saves, measured without the runtime's other servers beside it. Build both trees (`npm run build` in each), then
 *
 *   node dist/bench/ab.js <throughput|large|churn> <server-a.js> <server-b.js> [--pairs 8] [--duration 3000]
 *
 * for example `node dist/bench/ab.js churn ../before/dist/bench/servers/echo-edgesocket-node.js
 * dist/bench/servers/echo-edgesocket-node.js`. Each run is a fresh process pinned to one core (where `taskset` and two
 * cores allow), driven by bench/load-client.ts from the other core with the full bench's load, over a window of 3 s by
 * default (the full bench's is 1 s); A and B swap places every pair. Prints each
 * pair, then B against A: the median of the paired ratios of the rate and of the server's CPU time per message (or per
 * connect-echo-close cycle), above 1.00× when B is better, with their range.
 * @module
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { startServer } from "../test/helpers/runtimes.ts";
import { MODES } from "./cli.ts";
import type { ScenarioResult } from "./load-client.ts";
import { findTools, type Tools } from "./machine.ts";
import { pairedText } from "./report.ts";
import { runClient } from "./run.ts";
import { CHURN_CPU, metric, type ScenarioName, type ScenarioParams, type ScenarioRun } from "./scenarios.ts";
import { SERVER_CPU, stopBenchServer } from "./servers.ts";
import { paired, ratio } from "./stats.ts";
import { acceptsWebSocket } from "./wire.ts";

const USAGE =
  "usage: node dist/bench/ab.js <throughput|large|churn> <server-a.js> <server-b.js> [--pairs N] [--duration ms]";
const AB_SCENARIOS: readonly ScenarioName[] = ["throughput", "large", "churn"];

/** What to compare, from the command line. */
export interface AbArgs {
  scenario: ScenarioName;
  files: [a: string, b: string];
  pairs: number;
  duration: number;
}

/** Reads the command line; throws the usage on anything else. */
export function parseAbArgs(argv: readonly string[]): AbArgs {
  const positional: string[] = [];
  const options: Record<string, number> = { pairs: 8, duration: 3000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) positional.push(arg);
    else if (Object.hasOwn(options, arg.slice(2)) && isCount(argv[i + 1])) options[arg.slice(2)] = Number(argv[++i]);
    else throw new Error(USAGE);
  }
  const [scenario, a, b] = positional;
  if (positional.length !== 3 || !AB_SCENARIOS.includes(scenario as ScenarioName)) throw new Error(USAGE);
  return { scenario: scenario as ScenarioName, files: [a!, b!], pairs: options.pairs!, duration: options.duration! };
}

function isCount(value: string | undefined): boolean {
  return Number.isInteger(Number(value)) && Number(value) > 0;
}

/** The server's CPU time per message, or per connect-echo-close cycle in churn. */
function cpuOf(scenario: ScenarioName, run: ScenarioResult): number | undefined {
  return (scenario === "churn" ? CHURN_CPU : metric("cpuPerMessage")).read(run);
}

/** One run of `file`: a fresh server, the load client once, the server stopped. */
async function runOnce(file: string, args: AbArgs, tools: Tools): Promise<ScenarioResult> {
  const cpu = tools.pinned ? SERVER_CPU : undefined;
  const server = await startServer("node", path.resolve(file), { ready: acceptsWebSocket, cpu });
  try {
    const params: ScenarioParams = { ...MODES.full.scenarios[args.scenario], repeats: 1, duration: args.duration };
    const run: ScenarioRun = await runClient(args.scenario, "node-ab", server, params, tools);
    if ("failed" in run) throw new Error(`${file}: ${run.failed}`);
    return run;
  } finally {
    await stopBenchServer(server);
  }
}

/** One pair's line: each side's rate and server CPU per unit. */
export function pairLine(scenario: ScenarioName, pair: number, a: ScenarioResult, b: ScenarioResult): string {
  const side = (run: ScenarioResult) => `${run.value.toFixed(1)} ${run.unit}, ${cpuOf(scenario, run)?.toFixed(3)} µs`;
  return `pair ${pair + 1}: A ${side(a)} | B ${side(b)}`;
}

/**
 * B against A over the pairs (`a[i]` and `b[i]` ran together): the median and range of B's rate ÷ A's and of A's
 * server CPU per unit ÷ B's, both above 1.00× when B is better.
 */
export function summarizePairs(scenario: ScenarioName, a: ScenarioResult[], b: ScenarioResult[]): string {
  const rate = paired(b, a, (runB, runA) => ratio(runB.value, runA.value, true));
  const cpu = paired(b, a, (runB, runA) => ratio(cpuOf(scenario, runB), cpuOf(scenario, runA), false));
  return `B against A, ${a.length} pairs: ${scenario} ${pairedText(rate)}, server CPU ${pairedText(cpu)}`;
}

/** Runs the pairs, printing each; resolves with {@link summarizePairs}. */
export async function compareBuilds(args: AbArgs, log: (line: string) => void): Promise<string> {
  const tools = findTools();
  const runs: [ScenarioResult[], ScenarioResult[]] = [[], []];
  for (let pair = 0; pair < args.pairs; pair++) {
    const order = pair % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order) runs[side]!.push(await runOnce(args.files[side]!, args, tools));
    log(pairLine(args.scenario, pair, runs[0][pair]!, runs[1][pair]!));
  }
  return summarizePairs(args.scenario, runs[0], runs[1]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  compareBuilds(parseAbArgs(process.argv.slice(2)), (line) => process.stderr.write(`${line}\n`))
    .then((summary) => console.log(summary))
    .catch((error) => {
      console.error(error?.message ?? error);
      process.exit(1);
    });
}
