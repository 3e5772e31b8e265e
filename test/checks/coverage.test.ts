/**
 * `npm run coverage` (the core's unit tests with coverage) must pass its thresholds (vitest.config.ts), so that
 * `npm test` fails when the core's coverage drops below what the README quotes.
 */
import { expect, test } from "vitest";
import { run } from "./run.ts";

test("npm run coverage meets the thresholds in vitest.config.ts", async () => {
  const result = await run("npm", ["run", "coverage", "--", "--reporter=dot"], { timeout: 300_000 });
  expect(result.stdout + result.stderr).not.toMatch(/ERROR: Coverage/);
  expect(result.stdout).toMatch(/All files\s+\|\s+[\d.]+/);
  expect(result.code).toBe(0);
}, 300_000);
