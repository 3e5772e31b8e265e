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

it(`the benchmark block of ${PERFORMANCE_DOC} is what bench/results/latest.json gives`, () => {
  const report: Report = JSON.parse(readFileSync(path.join(ROOT, "bench", "results", "latest.json"), "utf8"));
  const doc = readFileSync(path.join(ROOT, PERFORMANCE_DOC), "utf8");
  const start = doc.indexOf(DOC_START);
  const end = doc.indexOf(DOC_END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  const shown = doc.slice(start, end + DOC_END.length);
  expect(normalise(shown)).toEqual(normalise(readmeBlock(report)));
  expect(report.mode).toBe("full");
});

it(`the resume block of ${PERFORMANCE_DOC} is what bench/results/resume.json gives`, () => {
  const report: RunReport = JSON.parse(readFileSync(path.join(ROOT, "bench", "results", "resume.json"), "utf8"));
  const doc = readFileSync(path.join(ROOT, PERFORMANCE_DOC), "utf8");
  const start = doc.indexOf(RESUME_DOC_START);
  const end = doc.indexOf(RESUME_DOC_END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  expect(normalise(doc.slice(start, end + RESUME_DOC_END.length))).toEqual(normalise(resumeBlock(report)));
  expect(report.mode).toBe("full");
});

it(`the summary in ${README} is what bench/results/latest.json gives`, () => {
  const report: Report = JSON.parse(readFileSync(path.join(ROOT, "bench", "results", "latest.json"), "utf8"));
  const readme = readFileSync(path.join(ROOT, README), "utf8");
  const start = readme.indexOf(SUMMARY_START);
  const end = readme.indexOf(SUMMARY_END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  const summary = normalise(readmeSummary(report));
  expect(normalise(readme.slice(start, end + SUMMARY_END.length))).toEqual(summary);
  expect(summary.filter((line) => /^\| (bun|deno|workerd|node) \|/.test(line))).toHaveLength(4);
});
