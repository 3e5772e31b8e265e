import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ROOT, WORKERS_COMPATIBILITY_DATE } from "../helpers/runtimes.ts";

// wrangler.toml cannot import the constant that the tests and the bench use: this keeps the two equal.
test("wrangler.toml's compatibility_date is WORKERS_COMPATIBILITY_DATE", () => {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  expect(toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1]).toBe(WORKERS_COMPATIBILITY_DATE);
});
