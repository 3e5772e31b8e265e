import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

// Keeps `npm run bench` working: a tiny run against two servers. No speed is asserted here.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = mkdtempSync(path.join(tmpdir(), "edgesocket-bench-smoke-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const SERVERS = ["bun-raw", "bun-edgesocket"];
const SCENARIOS = ["idle", "latency", "throughput", "large", "churn", "broadcast"];

it("runs the bench in --smoke mode and every echo is verified", { timeout: 120_000 }, async () => {
  await promisify(execFile)(process.execPath, ["bench/run.mjs", "--smoke", "--out", out], {
    cwd: root,
    timeout: 110_000,
  });

  const report = JSON.parse(readFileSync(path.join(out, "latest.json"), "utf8"));
  expect(report.mode).toBe("smoke");
  expect(report.names).toEqual(SERVERS);
  expect(report.machine.cores).toBeGreaterThan(0);
  for (const name of SERVERS) {
    const [run] = report.results[name].runs;
    for (const scenario of SCENARIOS) {
      const verified = run[scenario].verified;
      expect(verified.ok, `${name} ${scenario}`).toBe(true);
      expect(verified.received, `${name} ${scenario}`).toBeGreaterThan(0);
      expect(verified.received).toBe(verified.sent);
      expect(typeof run[scenario].value).toBe("number");
    }
    expect(report.summary[name].verified.ok).toBe(true);
  }
  // Each ratio to raw is paired by round; with one round it is exactly the ratio of the two figures.
  const [edge] = report.results["bun-edgesocket"].runs;
  const [raw] = report.results["bun-raw"].runs;
  expect(report.summary["bun-edgesocket"].vsRaw.throughput).toBeCloseTo(
    edge.throughput.value / raw.throughput.value,
    9,
  );
  expect(report.summary["bun-edgesocket"].vsRaw.idle).toBeCloseTo(edge.idle.value - raw.idle.value, 6);

  const markdown = readFileSync(path.join(out, "latest.md"), "utf8");
  for (const name of SERVERS) {
    expect(markdown).toMatch(new RegExp(`^\\| ${name} \\| [\\d,.]+.*\\| ✓ [\\d,]+ \\|$`, "m"));
  }
  expect(markdown).toContain("## Machine");
  expect(readFileSync(path.join(out, "latest.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
});
