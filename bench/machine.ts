/**
 * What the bench finds on this machine: the runtimes and tools it needs, and a description of the machine
 * for the report.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../test/helpers/runtimes.ts";

/** The programs a run uses; undefined where missing. */
export interface Tools {
  bun?: string;
  deno?: string;
  wrangler?: string;
  /** A python3 with tornado, and the versions. */
  tornado?: { python: string; version: string };
  /** Whether servers and client can be pinned to a core each (`taskset` and two CPUs). */
  pinned: boolean;
  /** The runtime the load client runs on, and its executable. */
  client: { runtime: "bun" | "node"; command: string };
}

function output(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 30000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function packageVersion(name: string): string | undefined {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

function findTornado(): Tools["tornado"] {
  for (const python of ["python3", "/usr/bin/python3"]) {
    const version = output(python, ["-c", "import sys, tornado; print(sys.version.split()[0], tornado.version)"]);
    if (version) return { python, version };
  }
  return undefined;
}

/** Looks for the runtimes (node_modules/.bin), tornado and taskset. */
export function findTools(): Tools {
  const bin = (name: string) => {
    const file = path.join(ROOT, "node_modules", ".bin", name);
    return existsSync(file) ? file : undefined;
  };
  const bun = bin("bun");
  return {
    bun,
    deno: bin("deno"),
    wrangler: bin("wrangler"),
    tornado: findTornado(),
    pinned: os.cpus().length >= 2 && output("taskset", ["-c", "0", "true"]) !== undefined,
    // Measured here: on one core the Bun client drives bun-raw to ~1.75 M msg/s with the server at 98 % CPU,
    // the same client under Node 20 reaches ~0.95 M with neither side saturated.
    client: bun ? { runtime: "bun", command: bun } : { runtime: "node", command: process.execPath },
  };
}

/** The machine and the versions measured, for the report; `loadavg`: the load averages (1, 5, 15 min) now. */
export function machineInfo(tools: Tools): Record<string, string | number | undefined> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    bun: tools.bun ? output(tools.bun, ["--version"]) : undefined,
    deno: tools.deno ? output(tools.deno, ["--version"])?.split("\n")[0] : undefined,
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd"),
    python: tools.tornado?.version,
    hono: packageVersion("hono"),
    crossws: packageVersion("crossws"),
    ws: packageVersion("ws"),
    "@hono/node-ws": packageVersion("@hono/node-ws"),
    client: `bench/load-client.ts on ${tools.client.runtime} (raw node:net sockets)`,
    pinning: tools.pinned ? "servers on CPU 0, client on CPU 1 (taskset)" : "none (taskset or a second CPU missing)",
    loadavg: os.loadavg().map((load) => load.toFixed(2)).join(", "),
  };
}
