import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import {
  DOC_END,
  DOC_START,
  PERFORMANCE_DOC,
  README,
  readmeBlock,
  readmeSummary,
  SUMMARY_END,
  SUMMARY_START,
} from "../../bench/report.ts";
import { RESUME_DOC_END, RESUME_DOC_START, resumeBlock } from "../../bench/resume.ts";
import type { Report, RunReport } from "../../bench/summary.ts";
import { ROOT } from "../helpers/runtimes.ts";

// The performance document's tables must be the ones the committed results give.

/** Table cells and separators as `deno fmt` leaves them compared to as written: padding is not content. */
function normalise(markdown: string): string[] {
  return markdown
    .split("\n")
    .map((line) => line.trim().replace(/ {2,}/g, " "))
    .map((line) => (/^\|[\s\-:|]+\|$/.test(line) ? "|---|" : line))
    .filter((line) => line !== "");
}

/** The committed results `file` of bench/results. */
function results<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(ROOT, "bench", "results", file), "utf8"));
}

/** The block of `doc` from `start` to `end` (both present, in that order), {@link normalise}d. */
function shownBlock(doc: string, start: string, end: string): string[] {
  const text = readFileSync(path.join(ROOT, doc), "utf8");
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  expect(from, `${doc} has ${start}`).toBeGreaterThanOrEqual(0);
  expect(to, `${doc} has ${end} after it`).toBeGreaterThan(from);
  return normalise(text.slice(from, to + end.length));
}

it(`the benchmark block of ${PERFORMANCE_DOC} is what bench/results/latest.json gives`, () => {
  const report = results<Report>("latest.json");
  expect(shownBlock(PERFORMANCE_DOC, DOC_START, DOC_END)).toEqual(normalise(readmeBlock(report)));
  expect(report.mode).toBe("full");
});

it(`the resume block of ${PERFORMANCE_DOC} is what bench/results/resume.json gives`, () => {
  const report = results<RunReport>("resume.json");
  expect(shownBlock(PERFORMANCE_DOC, RESUME_DOC_START, RESUME_DOC_END)).toEqual(normalise(resumeBlock(report)));
  expect(report.mode).toBe("full");
});

it(`the summary in ${README} is what bench/results/latest.json gives`, () => {
  const summary = normalise(readmeSummary(results<Report>("latest.json")));
  expect(shownBlock(README, SUMMARY_START, SUMMARY_END)).toEqual(summary);
  expect(summary.filter((line) => /^\| (bun|deno|workerd|node) \|/.test(line))).toHaveLength(4);
});
