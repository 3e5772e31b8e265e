/**
 * `npm run bench:fanout -- [--quick] [--runtimes node,bun,deno] [--systems edgesocket,socketio,crossws] [--rounds N] [--inflight N] [--out DIR]`: runs the
 * fan-out benchmark, prints its tables and writes `fanout.json` and `fanout.md` to DIR
 * (default bench/fanout/results). Exits with 1 when a delivery was missing or wrong.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { runFanout } from "./fanout.ts";
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

const report = await runFanout({
  inflight,
  quick: values.quick,
  runtimes: values.runtimes.split(","),
  kinds: values.systems.split(",") as ServerKind[],
  rounds,
  log: (line) => console.error(line),
});
const markdown = fanoutMarkdown(report);
mkdirSync(values.out, { recursive: true });
writeFileSync(resolve(values.out, "fanout.json"), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(resolve(values.out, "fanout.md"), markdown);
console.log(markdown);
process.exitCode = report.rows.every((row) => row.checked) ? 0 : 1;
