/**
 * One machine, every core: two processes of one runtime share one port, each with its runtime's own
 * mechanism (Node 20's `cluster` module, Bun's and Deno's `reusePort`), and the Redis backplane
 * carries topics between them. Clients connect until both processes serve one.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Client } from "../helpers/client.ts";
import { type RunningRedis, startRedis } from "../helpers/redis.ts";
import { entryOf, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";
import { publications, type RoomClient } from "../conformance/rooms.ts";
import { chatCrosses, inLobby, range, Rooms } from "./scenarios.ts";

type Starter = (env: Record<string, string>) => Promise<RunningServer[]>;

/** How each runtime puts two processes of the rooms fixture on one port. */
const FIXTURE_ON_CORES: Record<string, Starter> = {
  node: (env) => withNodeCluster("dist/test/fixtures/redis-node-cores.js", env),
  bun: (env) => twoWithReusePort("bun", "test/fixtures/redis-bun.ts", env),
  deno: (env) => twoWithReusePort("deno", "test/fixtures/redis-deno.ts", env),
};

/** The same for the demo entries (`npm run start:node|bun|deno`). */
const DEMO_ON_CORES: Record<string, Starter> = {
  node: (env) => withNodeCluster(entryOf("node", "demo"), env, "/"),
  bun: (env) => twoWithReusePort("bun", entryOf("bun", "demo"), env, "/"),
  deno: (env) => twoWithReusePort("deno", entryOf("deno", "demo"), env, "/"),
};

async function withNodeCluster(entry: string, env: Record<string, string>, readyPath?: string) {
  return [await startServer("node", entry, { env: { ...env, WORKERS: "2" }, readyPath })];
}

async function twoWithReusePort(runtime: RuntimeName, entry: string, env: Record<string, string>, readyPath?: string) {
  // Deno 2.9 still has `reusePort` behind --unstable-net.
  const flags = runtime === "deno" ? ["--unstable-net"] : [];
  const options = { env: { ...env, REUSE_PORT: "1" }, flags, readyPath };
  const first = await startServer(runtime, entry, options);
  return [first, await startServer(runtime, entry, { ...options, port: first.port })];
}

/** The ids of the processes that hold established connections on `port` (`ss -tnp`). */
function pidsServing(port: number): Set<string> {
  const lines = execFileSync("ss", ["-tnpH", "state", "established", `( sport = :${port} )`], { encoding: "utf8" });
  return new Set([...lines.matchAll(/pid=(\d+)/g)].map((match) => match[1]!));
}

/** Publishes probes from `from` until one reaches `to`. */
async function crosses(from: RoomClient, to: RoomClient, deadline: number): Promise<void> {
  const marker = `probe ${Math.random()}`;
  while (!publications(to).includes(marker)) {
    if (Date.now() > deadline) throw new Error("no publication crossed the processes in time");
    from.ws.send(JSON.stringify({ pub: "cores", data: marker }));
    await new Promise((r) => setTimeout(r, 100));
  }
}

let redis: RunningRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.remove();
});

for (const [runtime, start] of Object.entries(FIXTURE_ON_CORES)) {
  describe(`${runtime}: two processes on one port`, () => {
    let processes: RunningServer[] = [];
    const rooms = new Rooms();

    beforeAll(async () => {
      processes = await start({ REDIS_URL: redis.url });
    });
    afterAll(async () => {
      rooms.close();
      await Promise.all(processes.map((p) => p.stop()));
    });

    test("clients reach both processes through the one port, and a room spans them", async () => {
      const [server] = processes as [RunningServer];
      const byProcess = new Map<number, RoomClient>();
      // The kernel spreads connections over the listeners (the second may still be starting): connect until
      // both have answered.
      const deadline = Date.now() + 30_000;
      while (byProcess.size < 2) {
        if (Date.now() > deadline) throw new Error(`clients reached ${byProcess.size} process(es) only in 30 s`);
        const client = await rooms.join(server, "cores", "/process-rooms");
        const { pid } = await client.command({ pid: 1 }) as { pid: number };
        if (byProcess.has(pid)) client.ws.terminate();
        else byProcess.set(pid, client);
      }
      const [one, two] = [...byProcess.values()] as [RoomClient, RoomClient];
      // Until both processes have subscribed to the topic's channel, a publication may stay local.
      await crosses(one, two, deadline);
      await crosses(two, one, deadline);
      for (const message of range(10, "one")) one.ws.send(JSON.stringify({ pub: "cores", data: message }));
      for (const message of range(10, "two")) two.ws.send(JSON.stringify({ pub: "cores", data: message }));
      const only = (client: RoomClient, prefix: string) => publications(client).filter((m) => m.startsWith(prefix));
      while (only(two, "one").length < 10 || only(one, "two").length < 10) {
        if (Date.now() > deadline) throw new Error("not every publication crossed in time");
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(only(two, "one")).toEqual(range(10, "one"));
      expect(only(one, "two")).toEqual(range(10, "two"));
    });
  });
}

for (const [runtime, start] of Object.entries(DEMO_ON_CORES)) {
  describe(`${runtime}: the chat demo on two processes sharing one port`, () => {
    let processes: RunningServer[] = [];

    beforeAll(async () => {
      processes = await start({ REDIS_URL: redis.url });
    });
    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop()));
    });

    test("a chat message reaches the room on both processes", async () => {
      const [server] = processes as [RunningServer];
      const bobs: Client[] = [];
      // Connect until both processes serve a client (the second may still be starting).
      const deadline = Date.now() + 30_000;
      while (pidsServing(server.port).size < 2) {
        if (Date.now() > deadline) throw new Error("the clients reached one process only in 30 s");
        bobs.push(...await inLobby([server.wsURL]));
      }
      await chatCrosses(server.wsURL, bobs);
    });
  });
}
