/**
 * `GET /bench/heap` on the Node, Deno and Bun echo servers (every kind: the raw APIs through {@link heapResponder} and
 * {@link heapOrNotFound}, the Hono apps through {@link withHeapRoute}), read by the idle scenario:
 * the resident size of V8's young generation as it stands (Node, Deno: it grows by steps of megabytes as a server
 * allocates, up to a fixed maximum, and so moves the RSS in steps that are not any one connection's; its physical
 * size, as the committed size counts pages not yet touched), then a full garbage
 * collection and the JavaScript heap in use, as JSON `{ "heapUsed": bytes, "young"?: bytes }`. The collector is
 * reached without a command-line flag (Node and Deno: V8's `--expose-gc` set at run time through `node:v8`, the
 * function taken from a new context; Bun: `Bun.gc(true)`), so that both servers of a pair run exactly as a user's
 * until the load client asks, and then both the same way.
 * @module
 */
import type { Hono } from "hono";
import type { IncomingMessage, ServerResponse } from "node:http";

/** The path of the heap reading. */
export const HEAP_PATH = "/bench/heap";

interface RuntimeGlobals {
  Bun?: { gc(force: boolean): void };
  Deno?: { memoryUsage(): { heapUsed: number } };
  process?: { memoryUsage(): { heapUsed: number } };
}

/** What this runtime lets the route read: a full collection, and V8's young generation where there is one. */
interface Collector {
  collect(): void;
  young?(): number;
}

async function collector(): Promise<Collector> {
  const bun = (globalThis as RuntimeGlobals).Bun;
  if (bun) return { collect: () => bun.gc(true) };
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  const young = () =>
    v8.getHeapSpaceStatistics().filter((space) => space.space_name.startsWith("new_"))
      .reduce((sum, space) => sum + space.physical_space_size, 0);
  return { collect: vm.runInNewContext("gc") as () => void, young };
}

/** The young generation's size now, then the heap in use after a full collection, in bytes. */
function reading({ collect, young }: Collector): { heapUsed: number; young?: number } {
  const youngNow = young?.();
  collect();
  const globals = globalThis as RuntimeGlobals;
  return { heapUsed: (globals.Deno ?? globals.process)!.memoryUsage().heapUsed, young: youngNow };
}

/** A server's heap reading: the first call sets the collector up (a failed setup is tried again on the next call). */
export function heapReader(): () => Promise<{ heapUsed: number; young?: number }> {
  let collect: Promise<Collector> | undefined;
  return async () => {
    collect ??= collector().catch((error) => {
      collect = undefined;
      throw error;
    });
    return reading(await collect);
  };
}

/** Adds {@link HEAP_PATH} to `app` (a bench server's, before it serves). */
export function withHeapRoute<T extends Hono>(app: T): T {
  const read = heapReader();
  app.get(HEAP_PATH, async (c) => c.json(await read()));
  return app;
}

/** A fetch handler's answer to {@link HEAP_PATH} (Bun's and Deno's raw servers). */
export function heapResponder(): () => Promise<Response> {
  const read = heapReader();
  return async () => Response.json(await read());
}

/** The `node:http` request listener of Node's raw servers: {@link HEAP_PATH}, and 404 for anything else. */
export function heapOrNotFound(): (request: IncomingMessage, response: ServerResponse) => void {
  const read = heapReader();
  return (request, response) => {
    if (request.url !== HEAP_PATH) return void response.writeHead(404).end();
    read().then(
      (heap) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(heap)),
      (error) => response.writeHead(500).end(String(error)),
    );
  };
}
