#!/usr/bin/env node
/**
 * Two builds of one Node bench server, in alternating pairs, one server at a time: what a change to the code costs
 * or saves, measured without the runtime's other servers beside it. Build both trees (`npm run build` in each), then
 *
 *   node dist/bench/ab.js <throughput|large|churn> <server-a.js> <server-b.js> [--pairs 8] [--duration 3000]
 *
 * for example `node dist/bench/ab.js churn ../before/dist/bench/servers/echo-edgesocket-node.js
 * dist/bench/servers/echo-edgesocket-node.js`. Each run is a fresh process pinned to one core, driven by
 * bench/load-client.ts from the other core with the full bench's load; A and B swap places every pair. Prints each
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
import type { ScenarioName, ScenarioParams, ScenarioRun } from "./scenarios.ts";
import { SERVER_CPU, stopBenchServer } from "./servers.ts";
import { paired, ratio } from "./stats.ts";
import { acceptsWebSocket } from "./wire.ts";

const USAGE =
  "usage: node dist/bench/ab.js <throughput|large|churn> <server-a.js> <server-b.js> [--pairs N] [--duration ms]";
const SCENARIOS: readonly ScenarioName[] = ["throughput", "large", "churn"];

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
    else if (arg.slice(2) in options && Number(argv[i + 1]) > 0) options[arg.slice(2)] = Number(argv[++i]);
    else throw new Error(USAGE);
  }
  const [scenario, a, b] = positional;
  if (positional.length !== 3 || !SCENARIOS.includes(scenario as ScenarioName)) throw new Error(USAGE);
  return { scenario: scenario as ScenarioName, files: [a!, b!], pairs: options.pairs!, duration: options.duration! };
}

/** The server's CPU time per message, or per cycle in churn. */
function cpuOf(run: ScenarioResult): number | undefined {
  return (run.cpuPerCycle ?? run.cpuPerMessage) as number | undefined;
}

/** One run of `file`: a fresh server, the load client once, the server stopped. */
async function runOnce(file: string, args: AbArgs, tools: Tools): Promise<ScenarioResult> {
  const server = await startServer("node", path.resolve(file), { ready: acceptsWebSocket, cpu: SERVER_CPU });
  try {
    const params: ScenarioParams = { ...MODES.full.scenarios[args.scenario], repeats: 1, duration: args.duration };
    const run: ScenarioRun = await runClient(args.scenario, "node-ab", server, params, tools);
    if ("failed" in run) throw new Error(`${file}: ${run.failed}`);
    return run;
  } finally {
    await stopBenchServer(server);
  }
}

/** Runs the pairs, printing each; resolves with B against A (rate, CPU). */
export async function compareBuilds(args: AbArgs, log: (line: string) => void): Promise<string> {
  const tools = findTools();
  const runs: [ScenarioResult[], ScenarioResult[]] = [[], []];
  for (let pair = 0; pair < args.pairs; pair++) {
    const order = pair % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order) runs[side]!.push(await runOnce(args.files[side]!, args, tools));
    const [a, b] = [runs[0][pair]!, runs[1][pair]!];
    log(
      `pair ${pair + 1}: A ${a.value.toFixed(1)} ${a.unit}, ${cpuOf(a)?.toFixed(3)} µs | B ${
        b.value.toFixed(1)
      } ${b.unit}, ${cpuOf(b)?.toFixed(3)} µs`,
    );
  }
  const rate = paired(runs[1], runs[0], (b, a) => ratio(b.value, a.value, true));
  const cpu = paired(runs[1], runs[0], (b, a) => ratio(cpuOf(b), cpuOf(a), false));
  return `B against A, ${args.pairs} pairs: ${args.scenario} ${pairedText(rate)}, server CPU ${pairedText(cpu)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  compareBuilds(parseAbArgs(process.argv.slice(2)), (line) => process.stderr.write(`${line}\n`))
    .then((summary) => console.log(summary))
    .catch((error) => {
      console.error(error?.message ?? error);
      process.exit(1);
    });
}
