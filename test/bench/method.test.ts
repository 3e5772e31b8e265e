import { describe, expect, it } from "vitest";
import {
  mainServers,
  MODES,
  parseArgs,
  resumeSelection,
  runsMainScenarios,
  selectedScenarios,
} from "../../bench/cli.ts";
import { comparedKinds } from "../../bench/resume.ts";
import { paramsFor } from "../../bench/scenarios.ts";
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

  it("--scenarios resume runs the resume scenario alone: idle and throughput on each runtime's plain and resume route", () => {
    const args = parseArgs(["--quick", "--scenarios", "resume"]);
    expect(args.resume).toBe(true);
    expect(runsMainScenarios(args)).toBe(false);
    const { servers, scenarios } = resumeSelection(args);
    // workerd: both routes in a Durable Object, where a resume route's sessions live.
    // Bun, Deno and Node also run the protocol's floor: a raw echo, and the same with the protocol written by hand.
    expect(servers).toEqual([
      "bun-edgesocket",
      "bun-resume",
      "bun-raw",
      "bun-rawresume",
      "deno-edgesocket",
      "deno-resume",
      "deno-raw",
      "deno-rawresume",
      "workerd-durable",
      "workerd-resume",
      "node-edgesocket",
      "node-resume",
      "node-rawcork",
      "node-rawresume",
    ]);
    // Quick mode measures idle memory on the target servers only; the resume scenario on the routes' servers (not
    // on the floor's), in pairs of rounds each on fresh processes, with the heap after a full collection beside the
    // RSS; its throughput on every server, each round on a fresh process too.
    expect(scenarios.map(([name, p]) => [name, p.repeats, p.kinds, p.fresh, p.heap])).toEqual([
      ["idle", 3, ["edgesocket", "durable", "resume"], true, true],
      ["throughput", 3, undefined, true, undefined],
    ]);
    expect(paramsFor("idle", "bun-rawresume", scenarios[0]![1])).toBeUndefined();
    expect(paramsFor("idle", "workerd-durable", scenarios[0]![1])).toBeDefined();
    // workerd's heap too: the load client reads it through the inspector (bench/inspector.ts).
    expect(paramsFor("idle", "workerd-resume", scenarios[0]![1])).toMatchObject({ heap: true });
    // workerd restarts wrangler dev for each fresh round: fewer rounds there (quick: 1; full: 3 of at most 2,000).
    expect(paramsFor("idle", "workerd-resume", scenarios[0]![1])).toMatchObject({ repeats: 1, count: 2000 });
    const full = resumeSelection(parseArgs(["--scenarios", "resume"])).scenarios[0]![1];
    expect(full).toMatchObject({ repeats: 5, count: 5000, fresh: true, heap: true });
    expect(paramsFor("idle", "workerd-durable", full)).toMatchObject({ repeats: 3, count: 2000 });
    expect(paramsFor("idle", "node-edgesocket", full)).toMatchObject({ repeats: 5, count: 5000 });
    expect(paramsFor("idle", "deno-resume", scenarios[0]![1])).toMatchObject({ heap: true, resume: true });
    const some = parseArgs([
      "--scenarios",
      "resume,latency",
      "--servers",
      "node-edgesocket,node-resume",
      "--repeats",
      "8",
    ]);
    expect(resumeSelection(some).servers).toEqual(["node-edgesocket", "node-resume"]);
    // Each throughput round starts a process: the full run warms it for 2 s (a heap still growing after 300 ms).
    expect(resumeSelection(some).scenarios[1]![1]).toMatchObject({
      repeats: 8,
      connections: 50,
      inflight: 256,
      warmup: 2000,
    });
    expect(scenarios[1]![1]).toMatchObject({ warmup: 300 });
    expect(MODES.full.scenarios.throughput).toMatchObject({ warmup: 300 });
    expect(runsMainScenarios(some)).toBe(true);
    expect(mainServers(some)).toEqual(["node-edgesocket"]);
    expect(selectedScenarios(some).map(([name]) => name)).toEqual(["latency"]);
  });

  it("a resume route's client speaks the protocol; workerd's Durable Object servers keep 4 messages in flight", () => {
    const throughput = MODES.full.scenarios.throughput!;
    expect(paramsFor("throughput", "bun-resume", throughput)).toMatchObject({ resume: true, inflight: 256 });
    expect(paramsFor("throughput", "bun-edgesocket", throughput)!.resume).toBeUndefined();
    expect(paramsFor("throughput", "workerd-resume", throughput)).toMatchObject({ resume: true, inflight: 4 });
    expect(paramsFor("throughput", "workerd-durable", throughput)).toMatchObject({ inflight: 4 });
    // Each resume route is compared with its runtime's plain route, which is in a Durable Object on workerd.
    expect(comparedKinds("workerd-resume")).toEqual(["durable"]);
    expect(comparedKinds("node-resume")).toEqual(["edgesocket"]);
    expect(comparedKinds("node-edgesocket")).toEqual([]);
    // The floor: the resume protocol by hand on raw Bun, against the raw echo.
    expect(paramsFor("throughput", "bun-rawresume", throughput)).toMatchObject({ resume: true, inflight: 256 });
    expect(comparedKinds("bun-rawresume")).toEqual(["raw"]);
    // On Node against raw `ws` that writes a turn's messages together, as the adapter does.
    expect(comparedKinds("node-rawresume")).toEqual(["rawcork"]);
  });

  it("refuses what it does not know", () => {
    expect(() => parseArgs(["--servers", "bun-fast"])).toThrow("unknown server bun-fast");
    expect(() => parseArgs(["--scenarios", "speed"])).toThrow("unknown scenario speed");
    expect(() => parseArgs(["--repeats", "0"])).toThrow("positive whole number");
    expect(() => parseArgs(["--fast"])).toThrow("unknown argument --fast");
  });
});
