/**
 * The bench's echo servers: which exist, and starting and stopping them as processes pinned to one core
 * (on test/helpers/runtimes.ts, as the tests start theirs).
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT, type RunningServer, startCommand, type StartOptions, startServer } from "../test/helpers/runtimes.ts";
import { wranglerToml } from "../test/helpers/wrangler.ts";
import type { Tools } from "./machine.ts";
import { groupPids } from "./proc.ts";
import { acceptsWebSocket } from "./wire.ts";

/** The runtimes measured, in the order they run. */
export const RUNTIMES = ["bun", "deno", "workerd", "node", "python"] as const;
/** A runtime of {@link RUNTIMES}. */
export type Runtime = typeof RUNTIMES[number];
/** The runtimes edgesocket serves (all but the seed's Python), in the order they run: the targets' runtimes. */
export const EDGESOCKET_RUNTIMES = ["bun", "deno", "workerd", "node"] as const satisfies readonly Runtime[];

/**
 * What serves the echo: `raw` the runtime's own API with no framework; `rawtext` raw `ws` that decodes text to a
 * string and sends it back as one (what any string API costs on Node); `edgesocket`; `hono` Hono's own
 * `upgradeWebSocket` helper; `crossws`; `tornado` the Python reference. The resume scenario's (bench/resume.ts, not
 * among {@link SERVERS_BY_RUNTIME}): `resume` edgesocket's echo on a route with `resume: true` (on workerd in a
 * Durable Object), on workerd `durable` the same echo on a plain route in a Durable Object, on Bun, Deno and Node
 * `rawresume` the raw echo with the resume protocol written by hand (its least cost, apart from edgesocket), and on
 * Node `rawcork` raw `ws` that writes a turn's messages together, as the Node adapter does (also for bench/ab.ts).
 */
export type Kind =
  | "raw"
  | "rawtext"
  | "edgesocket"
  | "hono"
  | "crossws"
  | "tornado"
  | "resume"
  | "durable"
  | "rawresume"
  | "rawcork";

/** The workerd servers whose Worker hands its requests to a Durable Object: its binding and class (durable-app.ts). */
const DURABLE_KINDS: readonly Kind[] = ["durable", "resume"];
const DURABLE_BINDINGS = { ECHO: "EchoObject" };

/** The Durable Object bindings of a workerd bench server of `kind`, for its wrangler configuration. */
export function workerdBindings(kind: Kind): Record<string, string> {
  return DURABLE_KINDS.includes(kind) ? DURABLE_BINDINGS : {};
}

/** Each runtime's servers, in the order of a round (edgesocket next to its raw base). */
export const SERVERS_BY_RUNTIME: Record<Runtime, readonly Kind[]> = {
  bun: ["raw", "edgesocket", "hono", "crossws"],
  deno: ["raw", "edgesocket", "hono", "crossws"],
  workerd: ["raw", "edgesocket", "hono", "crossws"],
  node: ["rawtext", "edgesocket", "hono", "crossws", "raw"],
  python: ["tornado"],
};

/**
 * The server edgesocket's targets are measured against on each runtime: the raw API, and on Node raw `ws`
 * with the same text decoding as every string API (raw `ws` echoes the bytes without reading them).
 */
export const BASE_KIND: Record<Runtime, Kind> = {
  bun: "raw",
  deno: "raw",
  workerd: "raw",
  node: "rawtext",
  python: "tornado",
};

/** Every server name, `runtime-kind` (e.g. `bun-edgesocket`). */
export const ALL_SERVERS: readonly string[] = RUNTIMES.flatMap((runtime) =>
  SERVERS_BY_RUNTIME[runtime].map((kind) => `${runtime}-${kind}`)
);

/** The runtime and kind of a server name. */
export function parseServerName(name: string): { runtime: Runtime; kind: Kind } {
  const [runtime, kind] = name.split("-") as [Runtime, Kind];
  return { runtime, kind };
}

/** The core the servers run on; the load client gets {@link CLIENT_CPU}. */
export const SERVER_CPU = 0;
/** The core of the load client. */
export const CLIENT_CPU = 1;

/** Why a server cannot run here, or undefined. */
export function missingTool(name: string, tools: Tools): string | undefined {
  const { runtime } = parseServerName(name);
  if (runtime === "bun" && !tools.bun) return "bun is not installed";
  if (runtime === "deno" && !tools.deno) return "deno is not installed";
  if (runtime === "workerd" && !tools.wrangler) return "wrangler is not installed";
  if (runtime === "python" && !tools.tornado) {
    return "skipped: no python3 with tornado (apt-get install python3-tornado)";
  }
  return undefined;
}

/**
 * Starts server `name` on a free port, pinned to {@link SERVER_CPU}, and resolves once it accepts a WebSocket.
 * `scratch`: a folder for workerd's wrangler configuration.
 */
export function startBenchServer(name: string, tools: Tools, scratch: string): Promise<RunningServer> {
  const { runtime, kind } = parseServerName(name);
  const file = path.join(ROOT, "bench", "servers", `echo-${kind}-${runtime}`);
  const options: StartOptions = {
    ready: acceptsWebSocket,
    cpu: tools.pinned ? SERVER_CPU : undefined,
    startupTimeout: runtime === "workerd" ? 90_000 : 30_000,
  };
  switch (runtime) {
    case "python":
      return startCommand(() => [tools.tornado!.python, [`${file}.py`]], options);
    case "node":
      // Node 20 runs what `tsc -p bench/tsconfig.json` compiled.
      return startServer("node", path.join(ROOT, "dist", "bench", "servers", `echo-${kind}-node.js`), options);
    case "workerd": {
      // Its own configuration, in its own folder: the repository's wrangler.toml binds Durable Objects these
      // workers do not have, and workers started together must not share wrangler's state (SQLITE_BUSY).
      const folder = path.join(scratch, name);
      mkdirSync(folder, { recursive: true });
      const wranglerConfig = path.join(folder, "wrangler.toml");
      writeFileSync(
        wranglerConfig,
        wranglerToml(`bench-${name}`, workerdBindings(kind)),
      );
      return startServer("workerd", `${file}.ts`, { ...options, wranglerConfig });
    }
    default:
      return startServer(runtime, `${file}.ts`, options);
  }
}

const SERVER_COOLDOWN_MS = 300;

/**
 * Stops a server's whole process group and waits until every process of it is gone (workerd outlives wrangler
 * for a moment; what is still there after 5 s is killed), then a pause, so that the kernel's teardown of its
 * sockets is not billed to the next server.
 */
export async function stopBenchServer(server: RunningServer): Promise<void> {
  await server.stop();
  for (let waited = 0; groupPids(server.pid, { live: true }).length > 0 && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // workerd ignores SIGTERM, and outlives a wrangler that exited first.
  for (const pid of groupPids(server.pid, { live: true })) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  await new Promise((resolve) => setTimeout(resolve, SERVER_COOLDOWN_MS));
}
