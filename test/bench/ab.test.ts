import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { parseAbArgs, summarizePairs } from "../../bench/ab.ts";
import type { ScenarioResult } from "../../bench/load-client.ts";
import { ROOT } from "../helpers/runtimes.ts";

// Keeps `node dist/bench/ab.js` working: two real Node servers compiled by `npm run build`, one short pair of churn
// runs. No speed is asserted here.
const RAWTEXT = "dist/bench/servers/echo-rawtext-node.js";
const EDGESOCKET = "dist/bench/servers/echo-edgesocket-node.js";

it("compares two builds of a Node server in alternating pairs", { timeout: 60_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["dist/bench/ab.js", "churn", RAWTEXT, EDGESOCKET, "--pairs", "2", "--duration", "300"],
    { cwd: ROOT, timeout: 55_000 },
  );
  expect(stderr.match(/^pair \d: A [\d.]+ conn\/s, [\d.]+ µs \| B [\d.]+ conn\/s, [\d.]+ µs$/gm)).toHaveLength(2);
  expect(stdout).toMatch(/^B against A, 2 pairs: churn [\d.]+× \([\d.]+×–[\d.]+×\), server CPU [\d.]+× /);
});

it("refuses a command line it does not understand, with the usage", () => {
  expect(parseAbArgs(["throughput", "a.js", "b.js", "--pairs", "3"])).toEqual({
    scenario: "throughput",
    files: ["a.js", "b.js"],
    pairs: 3,
    duration: 3000,
  });
  for (
    const argv of [["idle", "a.js", "b.js"], ["churn", "a.js"], ["churn", "a.js", "b.js", "--pairs", "0"], [
      "churn",
      "a.js",
      "b.js",
      "--fast",
    ]]
  ) {
    expect(() => parseAbArgs(argv), argv.join(" ")).toThrow(/^usage: node dist\/bench\/ab\.js/);
  }
});

it("compares each pair's own runs, above 1.00x when B is better, in rate and in CPU", () => {
  const churn = (value: number, cpuPerCycle: number) =>
    ({ value, unit: "conn/s", cpuPerCycle, verified: { ok: true }, expectedBytes: 32 }) as unknown as ScenarioResult;
  // Pair 1: B 10% faster at 20% less CPU; pair 2: B 10% slower at the same CPU; pair 3: B twice as fast, half the CPU.
  const a = [churn(1000, 100), churn(2000, 50), churn(500, 200)];
  const b = [churn(1100, 80), churn(1800, 50), churn(1000, 100)];
  expect(summarizePairs("churn", a, b)).toBe(
    "B against A, 3 pairs: churn 1.10× (0.90×–2.00×), server CPU 1.25× (1.00×–2.00×)",
  );
});
