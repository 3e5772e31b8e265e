import { describe, expect, it } from "vitest";
import { MODES, parseArgs, selectedScenarios } from "../../bench/cli.ts";
import { paired, ratio, spread } from "../../bench/stats.ts";

describe("the bench's statistics", () => {
  it("spread gives the median, the range and the count of the finite values", () => {
    expect(spread([3, undefined, 1, NaN, 2, 10])).toEqual({ median: 2.5, min: 1, max: 10, n: 4 });
    expect(spread([undefined])).toBeUndefined();
  });

  it("ratio is oriented so that above 1 is better", () => {
    expect(ratio(90, 100, true)).toBeCloseTo(0.9);
    expect(ratio(90, 100, false)).toBeCloseTo(100 / 90);
    expect(ratio(0, 100, true)).toBeUndefined();
  });

  it("paired compares runs of the same round only, then takes the median of the pairs", () => {
    const edgesocket = [95, 50, undefined, 110];
    const raw = [100, 100, 100, undefined, 99];
    expect(paired(edgesocket, raw, (a, b) => a / b)).toEqual({ median: 0.725, min: 0.5, max: 0.95, n: 2 });
  });
});

describe("the bench's command line", () => {
  it("--scenarios and --repeats select the scenarios and their rounds; quick keeps ≥ 3 throughput pairs", () => {
    const args = parseArgs(["--quick", "--scenarios", "throughput,idle", "--servers", "bun-raw,bun-edgesocket"]);
    expect(args).toMatchObject({ mode: "quick", servers: ["bun-raw", "bun-edgesocket"] });
    expect(selectedScenarios(args).map(([name, p]) => [name, p.repeats])).toEqual([["idle", 1], ["throughput", 3]]);
    expect(selectedScenarios(parseArgs(["--repeats", "8", "--scenarios", "latency"]))).toEqual([
      ["latency", { ...MODES.full.scenarios.latency, repeats: 8 }],
    ]);
  });

  it("the full run measures throughput in at least 6 pairs with 256 messages in flight on 50 connections", () => {
    expect(MODES.full.scenarios.throughput).toMatchObject({ repeats: 6, connections: 50, inflight: 256, size: 32 });
    expect(MODES.full.servers).toContain("node-rawtext");
  });

  it("refuses what it does not know", () => {
    expect(() => parseArgs(["--servers", "bun-fast"])).toThrow("unknown server bun-fast");
    expect(() => parseArgs(["--scenarios", "speed"])).toThrow("unknown scenario speed");
    expect(() => parseArgs(["--repeats", "0"])).toThrow("positive whole number");
    expect(() => parseArgs(["--fast"])).toThrow("unknown argument --fast");
  });
});
