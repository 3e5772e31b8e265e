/**
 * Starts a real runtime serving an entry file on a free port, and stops it by PID.
 * Used by the tests and, compiled into dist/, by the benchmark (bench/servers.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { listensOn } from "../../bench/proc.ts";

export type RuntimeName = "deno" | "bun" | "workerd" | "node";

/** The `compatibility_date` of every Worker the project runs: wrangler.toml's, the tests' and the bench's. */
export const WORKERS_COMPATIBILITY_DATE = "2026-04-20";

/** The repository's root: the nearest folder above this file with a package.json (this file also runs from dist/). */
export const ROOT = findRoot(import.meta.dirname);
const BIN = resolve(ROOT, "node_modules/.bin");

function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(resolve(dir, "package.json"))) return dir;
  }
  throw new Error(`no package.json above ${from}`);
}

export interface RunningServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly httpURL: string;
  /** `ws://127.0.0.1:PORT` */
  readonly wsURL: string;
  /** Everything the process printed so far. */
  output(): string;
  /** The PID of the server process, which is also its process group's ID. */
  readonly pid: number;
  /** The port offered to the server's inspector (used by workerd under `wrangler dev`; other runtimes ignore it). */
  readonly inspectorPort: number;
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

/** A program and its arguments. */
export type Command = [file: string, args: string[]];

/**
 * The command that serves `entry` on `runtime` at `port`. `wranglerConfig`: a wrangler configuration file for
 * workerd in place of the repository's wrangler.toml (whose Durable Object bindings need the demo's classes);
 * `flags`: Deno's flags before the entry, e.g. `--unstable-net`.
 */
function runtimeCommand(
  runtime: RuntimeName,
  entry: string,
  { port, inspectorPort, wranglerConfig, flags = [] }: {
    port: number;
    inspectorPort: number;
    wranglerConfig?: string;
    flags?: string[];
  },
): Command {
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
        WORKERS_COMPATIBILITY_DATE,
        ...(wranglerConfig ? ["--config", wranglerConfig] : []),
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

/** How a server is started and when it counts as ready. */
export interface StartOptions {
  /** Ready once a GET of this path answers 2xx (default `/health`), unless `ready` is given. */
  readyPath?: string;
  /** Ready once this resolves true for the server's port; tried every 100 ms. */
  ready?: (port: number) => Promise<boolean>;
  /** How long the server may take to become ready, in ms (default 45 s). */
  startupTimeout?: number;
  env?: Record<string, string>;
  /** A given port instead of a free one: to restart a server where its clients expect it, or one that another
   * process shares with `reusePort`. */
  port?: number;
  /** Runs the server on this CPU alone (`taskset -c`). */
  cpu?: number;
  /** See {@link runtimeCommand}. */
  wranglerConfig?: string;
  /** Deno's flags before the entry, e.g. `--unstable-net`. */
  flags?: string[];
}

/**
 * Spawns `entry` on `runtime` with `PORT` set, and waits until `readyPath` answers. A port found
 * free can be taken before the server binds it (by another test's client sockets, which use the
 * same ephemeral range), so a start that fails with "address in use" is retried on a new port.
 */
export function startServer(
  runtime: RuntimeName,
  entry: string,
  options: StartOptions = {},
): Promise<RunningServer> {
  return startCommand(
    (port, inspectorPort) => runtimeCommand(runtime, entry, { ...options, port, inspectorPort }),
    options,
  );
}

/** {@link startServer} for any program: `command` gets the chosen port (and a second free one for an inspector). */
export async function startCommand(
  command: (port: number, inspectorPort: number) => Command,
  options: StartOptions = {},
): Promise<RunningServer> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(command, options);
    } catch (error) {
      if (attempt === 3 || !/address already in use|EADDRINUSE|AddrInUse|port \d+ in use/i.test(String(error))) {
        throw error;
      }
    }
  }
}

async function startOnce(
  command: (port: number, inspectorPort: number) => Command,
  { readyPath = "/health", ready, startupTimeout = 45_000, env = {}, cpu, port: fixedPort }: StartOptions,
): Promise<RunningServer> {
  const port = fixedPort ?? await freePort();
  const inspectorPort = await freePort();
  const [program, programArgs] = command(port, inspectorPort);
  // taskset execs the program: the PID and the process group stay the server's.
  const [file, args] = cpu === undefined
    ? [program, programArgs]
    : ["taskset", ["-c", String(cpu), program, ...programArgs]];
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
    pid: child.pid!,
    inspectorPort,
    stop: () => stopProcess(child),
    signal: (signal) => child.kill(signal),
    exited,
  };
  const url = `${server.httpURL}${readyPath}`;
  const answers = ready ? () => ready(port) : () => answersOk(url);
  try {
    // Another test's server that took the port meanwhile would answer too (wrangler then fails to bind it): only
    // this server's own listening socket counts.
    await waitUntilReady(async () => await answers() && listensOn(child.pid!, port), {
      child,
      output: () => output,
      timeout: startupTimeout,
      what: ready ? `port ${port}` : url,
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function answersOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false; // not listening yet
  }
}

async function waitUntilReady(
  isReady: () => Promise<boolean>,
  { child, output, timeout, what }: { child: ChildProcess; output: () => string; timeout: number; what: string },
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    if (await isReady()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server was not ready at ${what} within ${timeout / 1000} s:\n${output()}`);
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
