import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { README_END, README_START, readmeBlock } from "../../bench/run.mjs";

// The "Performance" tables of docs/performance.md must be the ones the committed results give.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Table cells and separators as `deno fmt` leaves them compared to as written: padding is not content. */
function normalise(markdown: string): string[] {
  return markdown
    .split("\n")
    .map((line) => line.trim().replace(/ {2,}/g, " "))
    .map((line) => (/^\|[\s\-:|]+\|$/.test(line) ? "|---|" : line))
    .filter((line) => line !== "");
}

it("docs/performance.md's benchmark block is what bench/results/latest.json gives", () => {
  const report = JSON.parse(readFileSync(path.join(root, "bench", "results", "latest.json"), "utf8"));
  const page = readFileSync(path.join(root, "docs", "performance.md"), "utf8");
  const start = page.indexOf(README_START);
  const end = page.indexOf(README_END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  const shown = page.slice(start, end + README_END.length);
  expect(normalise(shown)).toEqual(normalise(readmeBlock(report)));
  expect(report.mode).toBe("full");
});
