/**
 * The package as users get it: the npm tarball's file list, a consumer that type-checks and runs against the
 * packed files, the Worker built by `wrangler deploy --dry-run` (offline), and the JSR package (`deno publish
 * --dry-run`). `npm test` builds dist/ first.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT } from "../helpers/runtimes.ts";
import { run, withoutTypeWarnings } from "./run.ts";

interface PackedFile {
  path: string;
}

const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
let work: string;
let tarball: string;
/** The files in the tarball, as `npm pack` (and `npm pack --dry-run`) lists them. */
let packed: string[];
/** The consumer project's directory. */
let app: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "edgesocket-pack-"));
  const result = await run("npm", ["pack", "--json", "--pack-destination", work]);
  expect(result.code).toBe(0);
  const [pack] = JSON.parse(result.stdout);
  tarball = join(work, pack.filename);
  packed = (pack.files as PackedFile[]).map((f) => f.path).sort();

  // A consumer project with the tarball installed in its node_modules, and its dependencies as npm would install them.
  app = join(work, "consumer");
  mkdirSync(join(app, "node_modules/edgesocket"), { recursive: true });
  const untar = await run("tar", ["-xzf", tarball, "-C", join(app, "node_modules/edgesocket"), "--strip-components=1"]);
  expect(untar.code).toBe(0);
  for (const dep of ["hono", "@hono", "ws", "@types"]) {
    symlinkSync(join(ROOT, "node_modules", dep), join(app, "node_modules", dep));
  }
  writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module" }));
  // The app every consumer below serves, on its runtime.
  writeFileSync(
    join(app, "echo-app.ts"),
    `import { Hono } from "hono";
import { type Message, websocket, WebSocketHandler } from "edgesocket";

export class Echo extends WebSocketHandler {
  override onMessage(message: Message): void {
    this.send(message);
  }
}
export const app = new Hono();
app.all("/ws", websocket(Echo));
`,
  );
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the npm package", () => {
  test("npm pack ships only the built library and its types, the README, the changelog and the license, nothing else", async () => {
    // Every module of the core and every adapter but Deno's (Deno cannot load TypeScript from npm: JSR serves it).
    const sources = (dir: string) =>
      readdirSync(join(ROOT, "src", dir)).filter((f) => f.endsWith(".ts")).map((f) => `${dir}/${f.slice(0, -3)}`);
    const modules = [
      "index",
      "testing",
      ...sources("core"),
      ...sources("backplane"),
      ...sources("adapters").filter((m) => m !== "adapters/deno"),
    ];
    const expected = modules.flatMap((m) => [`dist/src/${m}.js`, `dist/src/${m}.d.ts`])
      .concat(["CHANGELOG.md", "LICENSE", "README.md", "package.json"]).sort();
    expect(packed).toEqual(expected);
  });

  test("every export in package.json points at a packed file, with types", async () => {
    const files = new Set(packed.map((path) => `./${path}`));
    for (
      const [subpath, target] of Object.entries(manifest.exports as Record<string, string | Record<string, string>>)
    ) {
      if (typeof target === "string") {
        expect(files.has(target), subpath).toBe(true);
        continue;
      }
      expect(Object.keys(target), subpath).toContain("types");
      for (const file of Object.values(target)) expect(files.has(file), `${subpath}: ${file}`).toBe(true);
    }
  });

  test("a Node consumer of the tarball type-checks with tsc and serves a handler over a real socket", async () => {
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        // noEmitOnError: the JavaScript is written only if the program type-checks. skipLibCheck keeps it fast;
        // the @ts-expect-error lines below fail if a type of the package's .d.ts files did not resolve (`any`).
        compilerOptions: {
          module: "NodeNext",
          strict: true,
          noEmitOnError: true,
          skipLibCheck: true,
          types: ["node"],
          outDir: "out",
        },
        files: ["server.ts", "tornado.ts"],
      }),
    );
    writeFileSync(
      join(app, "server.ts"),
      `import { serve } from "edgesocket/node";
import { connect } from "edgesocket/testing";
import { app, Echo } from "./echo-app.js";
const client = await connect(Echo);
export function misuses(): void {
  // @ts-expect-error: a number is not SendData
  client.send(42);
  // @ts-expect-error: the handler's hooks are typed too
  new Echo().onMessage(42);
  // @ts-expect-error: and the Node adapter's options
  serve(app, { port: "8000" });
}
client.send("in memory");
console.log(await client.nextMessage());
const server = serve(app, { port: 0, hostname: "127.0.0.1" });
server.once("listening", () => {
  console.log("listening");
  server.close();
});
`,
    );
    // The README's side-by-side listing of the seed is a consumer too: type-checked here, not run (it takes port 8000).
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const listing = readme.slice(readme.indexOf("## Coming from Tornado")).match(/```ts\n([\s\S]*?)```/)![1]!;
    expect(listing).toContain("class MyWebSocketServer extends WebSocketHandler");
    writeFileSync(join(app, "tornado.ts"), listing);
    // Node 20 cannot run TypeScript: tsc checks the consumer and writes its JavaScript.
    const checked = await run("tsc", ["-p", "."], { cwd: app });
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    const ran = await run("node", ["out/server.js"], { cwd: app });
    expect(ran.stderr).toBe("");
    expect(ran.stdout).toBe("in memory\nlistening\n");
  });
});

describe("Bun", () => {
  test("a Bun consumer of the tarball serves a handler with edgesocket/bun over a real socket", async () => {
    writeFileSync(
      join(app, "bun-server.ts"),
      `import { serve } from "edgesocket/bun";
import { app } from "./echo-app.js";
const server = serve(app, { port: 0, hostname: "127.0.0.1" });
const socket = new WebSocket(\`ws://127.0.0.1:\${server.port}/ws\`);
socket.onopen = () => socket.send("over Bun");
socket.onmessage = (event) => {
  console.log(event.data);
  socket.close();
  server.stop(true);
};
`,
    );
    const ran = await run("bun", ["run", "bun-server.ts"], { cwd: app, timeout: 30_000 });
    expect(ran.stderr).toBe("");
    expect(ran.stdout).toBe("over Bun\n");
  });
});

describe("Cloudflare Workers", () => {
  test("wrangler deploy --dry-run bundles a consumer's worker from the tarball, offline, with no Node module", async () => {
    writeFileSync(
      join(app, "worker.ts"),
      `import { worker } from "edgesocket/cloudflare";
import { app } from "./echo-app.js";
export default worker(app);
`,
    );
    const outdir = join(work, "consumer-worker-out");
    const result = await run(
      "wrangler",
      [
        "deploy",
        "--dry-run",
        "--outdir",
        outdir,
        "--name",
        "consumer",
        "--compatibility-date",
        "2026-04-20",
        "worker.ts",
      ],
      { cwd: app },
    );
    expect(result.code).toBe(0);
    const bundle = readFileSync(join(outdir, "worker.js"), "utf8");
    expect(bundle).toContain("WebSocketPair");
    expect(bundle).toContain("edgesocket.runtime");
    expect(bundle).not.toMatch(/from "node:|require\("node:/);
  });

  test("wrangler deploy --dry-run builds the demo worker offline", async () => {
    const outdir = join(work, "worker-out");
    const result = await run("wrangler", ["deploy", "--dry-run", "--outdir", outdir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--dry-run: exiting now.");
    const bundle = readFileSync(join(outdir, "worker.js"), "utf8");
    expect(bundle).toContain("WebSocketPair");
    expect(bundle).not.toMatch(/from "node:/);
  });
});

describe("JSR", () => {
  test("deno.json names, versions and exports the package; deno publish --dry-run accepts it", async () => {
    const config = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8").replace(/^\s*\/\/.*$/gm, ""));
    expect(config.name).toBe("@edgesocket/edgesocket");
    expect(config.version).toBe(manifest.version);
    expect(Object.keys(config.exports)).toEqual([".", "./deno", "./redis", "./testing"]);
    // Type checking is `deno check`'s test; here JSR's own rules (slow types, file list).
    const result = await run("deno", ["publish", "--dry-run", "--allow-dirty", "--no-check"]);
    expect(withoutTypeWarnings(result.stderr)).toContain("Success Dry run complete");
    expect(result.code).toBe(0);
  });
});
