/**
 * `GET /bench/heap` on the Node, Deno and Bun echo servers of the resume scenario (plain and resume routes alike):
 * a full garbage collection, then the JavaScript heap in use, as JSON `{ "heapUsed": bytes }`. The collector is
 * reached without a command-line flag (Node and Deno: V8's `--expose-gc` set at run time through `node:v8`, the
 * function taken from a new context; Bun: `Bun.gc(true)`), so that both servers of a pair run exactly as a user's
 * until the load client asks, and then both the same way.
 * @module
 */
import type { Hono } from "hono";

/** The path of the heap reading. */
export const HEAP_PATH = "/bench/heap";

interface RuntimeGlobals {
  Bun?: { gc(force: boolean): void };
  Deno?: { memoryUsage(): { heapUsed: number } };
  process?: { memoryUsage(): { heapUsed: number } };
}

/** A full collection, where this runtime allows one: the function that runs it. */
async function collector(): Promise<() => void> {
  const globals = globalThis as RuntimeGlobals;
  const bun = globals.Bun;
  if (bun) return () => bun.gc(true);
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

/** The heap in use after a full collection, in bytes. */
async function heapAfterGc(collect: () => void): Promise<number> {
  collect();
  const globals = globalThis as RuntimeGlobals;
  return (globals.Deno ?? globals.process)!.memoryUsage().heapUsed;
}

/** Adds {@link HEAP_PATH} to `app` (a bench server's, before it serves). */
export function withHeapRoute<T extends Hono>(app: T): T {
  let collect: Promise<() => void> | undefined;
  app.get(HEAP_PATH, async (c) => c.json({ heapUsed: await heapAfterGc(await (collect ??= collector())) }));
  return app;
}
