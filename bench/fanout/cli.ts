/**
 * `npm run bench:fanout -- [options]`: runs the fan-out benchmark, prints its tables and writes `fanout.json` and
 * `fanout.md` to `--out` (default bench/fanout/results). Exits with 1 when a delivery was missing or wrong.
 *
 * Options: `--quick`, `--runtimes node,bun,deno`, `--systems edgesocket,socketio,crossws`, `--rounds N`,
 * `--inflight N`, `--out DIR`; `--rewrite` writes the tables again from DIR/fanout.json without measuring.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { type FanoutReport, fanoutTargets, runFanout } from "./fanout.ts";
import { fanoutMarkdown } from "./report.ts";
import type { ServerKind } from "./wire.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runtimes: { type: "string", default: "node,bun,deno" },
    systems: { type: "string", default: "edgesocket,socketio,crossws" },
    rounds: { type: "string", default: "1" },
    inflight: { type: "string", default: "16" },
    out: { type: "string", default: "bench/fanout/results" },
    rewrite: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) {
  throw new RangeError(`--rounds must be 1 to 20, got ${values.rounds}`);
}

const inflight = Number(values.inflight);
if (!Number.isInteger(inflight) || inflight < 1 || inflight > 1000) {
  throw new RangeError(`--inflight must be 1 to 1000, got ${values.inflight}`);
}

async function measure(): Promise<FanoutReport> {
  return await runFanout({
    inflight,
    quick: values.quick,
    runtimes: values.runtimes.split(","),
    kinds: values.systems.split(",") as ServerKind[],
    rounds,
    log: (line) => console.error(line),
  });
}

/** `--rewrite`: the tables again from DIR/fanout.json, with the targets computed by this code. */
function reread(): FanoutReport {
  const report = JSON.parse(readFileSync(resolve(values.out, "fanout.json"), "utf8")) as FanoutReport;
  return { ...report, targets: fanoutTargets(report.rows) };
}

const report = values.rewrite ? reread() : await measure();
const markdown = fanoutMarkdown(report);
mkdirSync(values.out, { recursive: true });
writeFileSync(resolve(values.out, "fanout.json"), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(resolve(values.out, "fanout.md"), markdown);
console.log(markdown);
process.exitCode = report.rows.every((row) => row.checked) ? 0 : 1;
