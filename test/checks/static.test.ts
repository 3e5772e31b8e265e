/**
 * The static checks of the whole repository, run as part of `npm test`: tsc, deno check, deno lint,
 * deno fmt --check, and TSDoc on every public name (deno doc --lint), with the API reference built from it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT } from "../helpers/runtimes.ts";
import { run, withoutTypeWarnings } from "./run.ts";

/** The modules of the public API: what JSR and the npm package export, every adapter among them. */
const PUBLIC_ENTRIES = ["mod.ts", "src/adapter.ts", "src/testing.ts", "src/backplane/redis.ts", "src/client/index.ts"]
  .concat(
    readdirSync(join(ROOT, "src/adapters")).filter((f) => f.endsWith(".ts")).map((f) => `src/adapters/${f}`),
  );

describe("static checks", () => {
  // The Bun and Cloudflare adapters are type-checked, each with its runtime's own types, by `npm run build`
  // (tsconfig.bun.json, tsconfig.workerd.json), which `npm test` runs first.
  test("tsc --noEmit is clean on the library, the Node entries and the tests", async () => {
    const result = await run("tsc", ["-p", "tsconfig.json", "--noEmit"]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("tsc --noEmit is clean on the examples too, with Deno's own types from `deno types`", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgesocket-examples-"));
    try {
      const types = await run("deno", ["types"]);
      expect(types.code).toBe(0);
      // tsc knows no `deno.*` libs; what the examples use is in the file itself.
      writeFileSync(join(dir, "deno.d.ts"), types.stdout.replace(/^\/\/\/ <reference lib="deno\..*$/gm, ""));
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ extends: join(ROOT, "tsconfig.examples.json"), files: [join(dir, "deno.d.ts")] }),
      );
      const result = await run("tsc", ["-p", join(dir, "tsconfig.json")]);
      expect(result.stdout + result.stderr).toBe("");
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("deno check is clean on the library's Deno entries (the client's too) and on the examples", async () => {
    const result = await run("deno", [
      "check",
      "mod.ts",
      "src/adapters/deno.ts",
      "src/testing.ts",
      "src/client/index.ts",
      "examples/",
    ]);
    expect(withoutTypeWarnings(result.stderr)).not.toMatch(/error/i);
    expect(result.code).toBe(0);
  });

  test("npm run lint: deno lint and deno fmt --check pass on the whole repository", async () => {
    const result = await run("npm", ["run", "lint"]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
  });

  test("deno fmt follows the code's style: 2 spaces, double quotes, semicolons, 120 columns", () => {
    const config = readFileSync(join(ROOT, "deno.json"), "utf8");
    const fmt = JSON.parse(config.replace(/^\s*\/\/.*$/gm, "")).fmt;
    expect(fmt).toMatchObject({ lineWidth: 120, indentWidth: 2, useTabs: false, semiColons: true, singleQuote: false });
  });

  test("every public name has TSDoc; the only remaining remarks are Hono's own types in public signatures", async () => {
    const result = await run("deno", ["doc", "--lint", ...PUBLIC_ENTRIES]);
    const output = withoutTypeWarnings(result.stderr);
    const problems = output.match(/^error\[[^\]]+\]: .*$/gm) ?? [];
    // Every problem deno doc counted was read here.
    expect(Number(output.match(/Found (\d+) documentation lint errors/)?.[1] ?? 0)).toBe(problems.length);
    // Hono's `Context`, `Env`, `Handler` and `MiddlewareHandler` appear in edgesocket's signatures by design; Hono documents them.
    const honoTypes =
      /^error\[private-type-ref\]: public type '.+' references private type '(Context|Env|Handler|MiddlewareHandler)'$/;
    expect(problems.filter((line) => !honoTypes.test(line))).toEqual([]);
  });

  test("npm run docs writes the API reference to docs/api", async () => {
    const result = await run("npm", ["run", "docs"]);
    expect(result.code).toBe(0);
    const index = join(ROOT, "docs/api/index.html");
    expect(existsSync(index)).toBe(true);
    const symbols = readFileSync(join(ROOT, "docs/api/all_symbols.html"), "utf8");
    for (const name of ["WebSocketHandler", "websocket", "serve", "connect", "WebSocketClosedError"]) {
      expect(symbols).toContain(name);
    }
  });
});
