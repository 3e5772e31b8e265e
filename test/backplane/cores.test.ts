/**
 * One machine, every core: two processes of one runtime share one port, each with its runtime's own
 * mechanism (Node 20's `cluster` module, Bun's and Deno's `reusePort`), and the Redis backplane
 * carries topics between them. Clients connect until both processes serve one.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningRedis, startRedis } from "../helpers/redis.ts";
import { type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";
import { publications, type RoomClient } from "../conformance/rooms.ts";
import { range, Rooms } from "./scenarios.ts";

/** How each runtime puts two processes on one port. */
const SHARED_PORT: Record<Exclude<RuntimeName, "workerd">, (env: Record<string, string>) => Promise<RunningServer[]>> =
  {
    async node(env) {
      return [await startServer("node", "dist/test/fixtures/redis-node-cores.js", { env: { ...env, WORKERS: "2" } })];
    },
    bun: (env) => twoWithReusePort("bun", "test/fixtures/redis-bun.ts", env),
    // Deno 2.9 still has `reusePort` behind --unstable-net.
    deno: (env) => twoWithReusePort("deno", "test/fixtures/redis-deno.ts", env, ["--unstable-net"]),
  };

async function twoWithReusePort(runtime: RuntimeName, entry: string, env: Record<string, string>, flags?: string[]) {
  const options = { env: { ...env, REUSE_PORT: "1" }, flags };
  const first = await startServer(runtime, entry, options);
  return [first, await startServer(runtime, entry, { ...options, port: first.port })];
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

for (const [runtime, start] of Object.entries(SHARED_PORT)) {
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
