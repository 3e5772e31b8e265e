/**
 * Starts a real runtime serving an entry file on a free port, and stops it by PID.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";

export type RuntimeName = "deno" | "bun" | "workerd" | "node";

export const ROOT = resolve(import.meta.dirname, "../..");
const BIN = resolve(ROOT, "node_modules/.bin");

export interface RunningServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly httpURL: string;
  /** `ws://127.0.0.1:PORT` */
  readonly wsURL: string;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
  /** Sends `signal` to the server process itself (not its group). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string | null>;
}

/** The entry of each runtime for a fixture `name` (`test/fixtures/<rt>.ts`) or the demo (`demo`). */
export function entryOf(runtime: RuntimeName, name: "fixture" | "demo"): string {
  if (name === "demo") {
    return { deno: "mod.ts", bun: "src/bun.ts", workerd: "src/worker.ts", node: "dist/src/node.js" }[runtime];
  }
  const file = runtime === "workerd" ? "worker" : runtime;
  return runtime === "node" ? `dist/test/fixtures/${file}.js` : `test/fixtures/${file}.ts`;
}

/**
 * A port that was free a moment ago, chosen below Linux's ephemeral range (32768–60999), where the
 * many client sockets of parallel tests cannot take it before the server binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await isFree(port)) return port;
  }
  throw new Error("no free port found in 20000-31999");
}

/** Whether `port` on 127.0.0.1 can be bound now. */
export function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

function command(
  runtime: RuntimeName,
  entry: string,
  port: number,
  inspectorPort: number,
  flags: string[] = [],
): [string, string[]] {
  switch (runtime) {
    case "deno":
      return [`${BIN}/deno`, ["run", ...denoPermissions(entry), ...flags, entry]];
    case "bun":
      return [`${BIN}/bun`, ["run", entry]];
    case "node":
      return [process.execPath, [entry]];
    case "workerd":
      return [`${BIN}/wrangler`, [
        "dev",
        entry,
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspectorPort),
        "--compatibility-date",
        "2026-04-20",
      ]];
  }
}

/**
 * The demo (`mod.ts`) runs with exactly the permissions of `npm run start:deno`, the README's command,
 * so that a permission it lacks fails here; other entries get net and env.
 */
function denoPermissions(entry: string): string[] {
  if (entry !== "mod.ts") return ["--allow-net", "--allow-env"];
  const script: string = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")).scripts["start:deno"];
  return script.split(" ").filter((word) => word.startsWith("--allow-"));
}

interface StartOptions {
  readyPath?: string;
  env?: Record<string, string>;
  /** A given port instead of a free one, e.g. one that another process shares with `reusePort`. */
  port?: number;
  /** Deno's flags before the entry, e.g. `--unstable-net`. */
  flags?: string[];
}

/**
 * Spawns `entry` on `runtime` with `PORT` set, and waits until `readyPath` answers. A port found
 * free can be taken before the server binds it (by another test's client sockets, which use the
 * same ephemeral range), so a start that fails with "address in use" is retried on a new port.
 */
export async function startServer(
  runtime: RuntimeName,
  entry: string,
  options: StartOptions = {},
): Promise<RunningServer> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(runtime, entry, options);
    } catch (error) {
      if (attempt === 3 || !/address already in use|EADDRINUSE|AddrInUse|port \d+ in use/i.test(String(error))) {
        throw error;
      }
    }
  }
}

async function startOnce(
  runtime: RuntimeName,
  entry: string,
  { readyPath = "/health", env = {}, port: givenPort, flags }: StartOptions,
): Promise<RunningServer> {
  const port = givenPort ?? await freePort();
  const [file, args] = command(runtime, entry, port, await freePort(), flags);
  const child = spawn(file, args, {
    cwd: ROOT,
    // Its own process group, so that wrangler and workerd can be ended together.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      CI: "1",
      NO_COLOR: "1",
    },
  });
  let output = "";
  const exited = new Promise<number | string | null>((done) => {
    child.once("exit", (code, signal) => done(code ?? signal));
  });
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const server: RunningServer = {
    port,
    httpURL: `http://127.0.0.1:${port}`,
    wsURL: `ws://127.0.0.1:${port}`,
    output: () => output,
    stop: () => stopProcess(child),
    signal: (signal) => child.kill(signal),
    exited,
  };
  try {
    await waitUntilReady(`${server.httpURL}${readyPath}`, child, () => output);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not answer ${url} within 45 s:\n${output()}`);
}

/** SIGKILL to the whole group: workerd ignores SIGTERM. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
  await exited;
}
