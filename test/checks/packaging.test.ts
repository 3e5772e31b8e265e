/**
 * The package as users get it: the npm tarball's file list; Node, Bun and Worker consumers that `npm install` the
 * tarball with only what their runtime needs (from the local npm cache when it can), type-check and echo over a
 * real socket; the Worker built by `wrangler deploy --dry-run` (offline); and the JSR package (`deno publish
 * --dry-run`). `npm test` builds dist/ first.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, WORKERS_COMPATIBILITY_DATE } from "../helpers/runtimes.ts";
import { run, withoutTypeWarnings } from "./run.ts";

interface PackedFile {
  path: string;
}

const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
let work: string;
let tarball: string;
/** The files in the tarball, as `npm pack` (and `npm pack --dry-run`) lists them. */
let packed: string[];
/** Consumer projects, each with what a user of that runtime installs from npm next to the tarball. */
let nodeApp: string;
let bunApp: string;
let workerApp: string;

/** The app every consumer below serves, on its runtime. */
const ECHO_APP = `import { Hono } from "hono";
import { type Message, websocket, WebSocketHandler } from "edgesocket";

export class Echo extends WebSocketHandler {
  override onMessage(message: Message): void {
    this.send(message);
  }
}
export const app = new Hono();
app.all("/ws", websocket(Echo));
`;

/** A consumer project in `work/name` after `npm install <tarball> ...packages`, from the local npm cache when it can. */
async function consumer(name: string, packages: string[]): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  writeFileSync(join(dir, "echo-app.ts"), ECHO_APP);
  const installed = await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball, ...packages],
    { cwd: dir, timeout: 300_000 },
  );
  expect(installed.stderr).toBe("");
  expect(installed.code).toBe(0);
  return dir;
}

/** Whether `dir`'s node_modules holds `name` (at any depth npm would put it: hoisted or nested). */
function holds(dir: string, name: string): boolean {
  const lock = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8"));
  return Object.keys(lock.packages).some((path) => path.endsWith(`node_modules/${name}`));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "edgesocket-pack-"));
  const result = await run("npm", ["pack", "--json", "--pack-destination", work]);
  expect(result.code).toBe(0);
  const [pack] = JSON.parse(result.stdout);
  tarball = join(work, pack.filename);
  packed = (pack.files as PackedFile[]).map((f) => f.path).sort();
  // What each runtime's README install line says: Node also needs ws and @hono/node-server.
  [nodeApp, bunApp, workerApp] = await Promise.all([
    consumer("node-consumer", ["hono", "ws", "@hono/node-server"]),
    consumer("bun-consumer", ["hono"]),
    consumer("worker-consumer", ["hono"]),
  ]);
  // Type definitions for tsc only (development tooling, not what the package needs at run time).
  symlinkSync(join(ROOT, "node_modules/@types"), join(nodeApp, "node_modules/@types"));
}, 600_000);

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
      "adapter",
      "testing",
      ...sources("core"),
      ...sources("backplane"),
      ...sources("client"),
      ...sources("protocol"),
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

  test("Bun and Worker consumers install neither ws, @hono/node-server nor @redis/client", () => {
    for (const dir of [bunApp, workerApp]) {
      expect(holds(dir, "edgesocket")).toBe(true);
      expect(holds(dir, "hono")).toBe(true);
      for (const name of ["ws", "@hono/node-server", "@redis/client"]) {
        expect(holds(dir, name), `${dir}: ${name}`).toBe(false);
      }
    }
  });

  // Depends on the Node adapter's import guard (src/adapters/node.ts): its error names what to install.
  test("edgesocket/node without ws installed fails at import with the npm install line to run", async () => {
    const ran = await run("node", ["--input-type=module", "-e", 'await import("edgesocket/node")'], { cwd: workerApp });
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toContain("npm install ws @hono/node-server");
  });

  test("edgesocket/redis without @redis/client installed fails at import with the npm install line to run", async () => {
    const ran = await run("node", ["--input-type=module", "-e", 'await import("edgesocket/redis")'], {
      cwd: workerApp,
    });
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toContain("edgesocket/redis needs @redis/client: npm install @redis/client");
  });

  test("a Node consumer (npm install edgesocket hono ws @hono/node-server) type-checks with tsc and echoes over a real socket to edgesocket/client", async () => {
    const app = nodeApp;
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
      `import type { AddressInfo } from "node:net";
import { EdgeSocket } from "edgesocket/client";
import { serve } from "edgesocket/node";
import { connect } from "edgesocket/testing";
import WebSocket from "ws";
import { app, Echo } from "./echo-app.js";
const client = await connect(Echo);
export function misuses(): void {
  // @ts-expect-error: a number is not SendData
  client.send(42);
  // @ts-expect-error: the handler's hooks are typed too
  new Echo().onMessage(42);
  // @ts-expect-error: and the Node adapter's options
  serve(app, { port: "8000" });
  // @ts-expect-error: and the client's
  new EdgeSocket("ws://127.0.0.1:1/", undefined, { maxQueued: "10" });
}
client.send("in memory");
console.log(await client.nextMessage());
const server = serve(app, { port: 0, hostname: "127.0.0.1" });
server.once("listening", () => {
  console.log("listening");
  // edgesocket/client from the tarball, with ws as Node 20's WebSocket: queued before open, then echoed.
  const { port } = server.address() as AddressInfo;
  const socket = new EdgeSocket(\`ws://127.0.0.1:\${port}/ws\`, undefined, { WebSocket });
  socket.send("over edgesocket/client");
  socket.onmessage = (event) => {
    console.log(String(event.data));
    socket.close();
    server.close();
  };
});
`,
    );
    // The seed side by side in docs/from-tornado.md is a consumer too: type-checked here, not run (it takes port 8000).
    const page = readFileSync(join(ROOT, "docs/from-tornado.md"), "utf8");
    const listing = page.match(/```ts\n([\s\S]*?)```/)![1]!;
    expect(listing).toContain("class MyWebSocketServer extends WebSocketHandler");
    writeFileSync(join(app, "tornado.ts"), listing);
    // Node 20 cannot run TypeScript: tsc checks the consumer and writes its JavaScript.
    const checked = await run("tsc", ["-p", "."], { cwd: app });
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    const ran = await run("node", ["out/server.js"], { cwd: app });
    expect(ran.stderr).toBe("");
    expect(ran.stdout).toBe("in memory\nlistening\nover edgesocket/client\n");
  });
});

describe("Bun", () => {
  test("a Bun consumer (npm install edgesocket hono) serves a handler with edgesocket/bun over a real socket", async () => {
    const app = bunApp;
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
    const app = workerApp;
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
        WORKERS_COMPATIBILITY_DATE,
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
    expect(Object.keys(config.exports)).toEqual([".", "./adapter", "./deno", "./redis", "./testing", "./client"]);
    // Type checking is `deno check`'s test; here JSR's own rules (slow types, file list).
    const result = await run("deno", ["publish", "--dry-run", "--allow-dirty", "--no-check"]);
    expect(withoutTypeWarnings(result.stderr)).toContain("Success Dry run complete");
    expect(result.code).toBe(0);
  });
});
