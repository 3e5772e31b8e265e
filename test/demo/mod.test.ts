/**
 * `deno run mod.ts`, exactly as users type it, with no terminal to ask for permissions (as in CI, a script or
 * an editor's task runner): one line says which command to run, instead of an uncaught `NotCapable` stack trace.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { expect, test } from "vitest";
import { ROOT } from "../helpers/runtimes.ts";

test("a bare `deno run mod.ts` without a terminal says in one line to run `deno task start`, and exits 1", async () => {
  const child = spawn(resolve(ROOT, "node_modules/.bin/deno"), ["run", "mod.ts"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const code = await new Promise((done) => child.once("exit", done));
  expect(code).toBe(1);
  expect(output.trim().split("\n")).toEqual([
    "The demo needs net and env access: run `deno task start` (deno run --allow-net --allow-env mod.ts)",
  ]);
});
