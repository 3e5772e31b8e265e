/**
 * Redis sessions (`redisSessions`) on every runtime that has a backplane: one session moves between a Bun, a Deno
 * and a Node process (test/fixtures/resume-redis-*.ts) while all three publish to its topic; it keeps its state and
 * topics, gets every publication once and in order, and `open` and `onClose` run once across the three. Then one
 * moves on as its Bun process and then its Deno process shut down.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { EdgeSocket, type WebSocketConstructor } from "../../src/client/index.ts";
import type { ProcessRecord } from "../fixtures/resume-redis-app.ts";
import { type ChaosProxy, startChaosProxy } from "../helpers/chaos-proxy.ts";
import { type RunningRedis, startRedis } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/runtimes.ts";

const WAIT = { timeout: 60_000, interval: 50 };
const COUNT = 600;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a Redis session moving between Bun, Deno and Node processes", () => {
  let redis: RunningRedis;
  let servers: RunningServer[] = [];
  let proxy: ChaosProxy;
  /** The process the proxy sends the next connection to. */
  let target = 0;

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: "runtimes" };
    servers = await Promise.all([
      startServer("bun", "test/fixtures/resume-redis-bun.ts", { env }),
      startServer("deno", "test/fixtures/resume-redis-deno.ts", { env }),
      startServer("node", "dist/test/fixtures/resume-redis-node.js", { env }),
    ]);
    proxy = await startChaosProxy(() => servers[target]!.port);
  }, 90_000);
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.remove();
  });

  const stats = (id: string): Promise<(ProcessRecord | null)[]> =>
    Promise.all(servers.map(async (server) => (await fetch(`${server.httpURL}/stats/${id}`)).json()));
  const sum = async (id: string, key: "opened" | "closed" | "rebuilt") =>
    (await stats(id)).reduce((total, record) => total + (record?.[key] ?? 0), 0);
  const publishOn = (server: RunningServer, tag: string, count = 1, every = 0) =>
    fetch(`${server.httpURL}/publish/news?tag=${tag}&count=${count}&every=${every}`, { method: "POST" })
      .then((response) => response.text());

  /** An EdgeSocket in room `id` (topic "news") through the proxy, retrying fast: what it receives, its opens, closes. */
  const roomClient = (id: string) => {
    const socket = new EdgeSocket(`ws://127.0.0.1:${proxy.port}/room/${id}?topics=news`, undefined, {
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      minDelay: 5,
      maxDelay: 30,
      jitter: 0,
    });
    const received: string[] = [];
    const opens: boolean[] = [];
    const closes: number[] = [];
    socket.addEventListener("message", (event) => received.push(String(event.data)));
    socket.addEventListener("open", (event) => opens.push(event.resumed));
    socket.addEventListener("close", (event) => closes.push(event.code));
    return { socket, received, opens, closes };
  };

  test("state, topics and every publication of the three, once, in order; open and onClose once", async () => {
    const id = `runtimes-${Math.random().toString(36).slice(2)}`;
    const { socket, received, opens } = roomClient(id);
    try {
      await expect.poll(() => received.includes("joined"), WAIT).toBe(true);
      socket.send("state=kept");
      for (const [i, server] of servers.entries()) {
        await expect.poll(async () => {
          await publishOn(server, `probe${i}`);
          await sleep(50);
          return received.includes(`probe${i}:1`);
        }, WAIT).toBe(true);
      }
      const tags = ["bun", "deno", "node"];
      const publishing = Promise.all(servers.map((server, i) => publishOn(server, tags[i]!, COUNT, 1)));
      // Bun → Deno → Node → Bun, while the three publish.
      for (const next of [1, 2, 0]) {
        await expect.poll(() => socket.readyState, WAIT).toBe(EdgeSocket.OPEN);
        target = next;
        proxy.cutNow();
        await sleep(100);
      }
      await publishing;
      for (const tag of tags) {
        const expected = Array.from({ length: COUNT }, (_, i) => `${tag}:${i + 1}`);
        await expect.poll(() => received.filter((m) => m.startsWith(`${tag}:`)), WAIT).toEqual(expected);
      }
      socket.send("who?");
      await expect.poll(() => received.find((m) => m.startsWith("who:")), WAIT)
        .toBe(`who:${JSON.stringify({ state: "kept", params: { id }, topics: ["news"] })}`);
      expect(opens).toEqual([false, true, true, true]);
      expect(await sum(id, "opened")).toBe(1);
      expect(await sum(id, "rebuilt")).toBe(3);
      socket.send("close");
      await expect.poll(() => sum(id, "closed"), WAIT).toBe(1);
      expect((await stats(id))[0]!.closes).toEqual([{ code: 1000, reason: "bye" }]);
    } finally {
      socket.close();
    }
  }, 120_000);

  test(
    "its Bun process, then its Deno process, shut down (1012): it moves on each time with every publication once, in order; open once, no onClose where it was",
    async () => {
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: "runtimes", SHUTDOWN_TIMEOUT: "10000" };
      const leaving = await Promise.all([
        startServer("bun", "test/fixtures/resume-redis-bun.ts", { env }),
        startServer("deno", "test/fixtures/resume-redis-deno.ts", { env }),
      ]);
      servers.push(...leaving); // stopped with the others if a check fails first
      const [bun, deno] = [3, 4];
      const node = servers[2]!;
      /** SIGTERM to `server`; what it saw of each session, printed as it exits (with 0). */
      const shutDown = async (server: RunningServer): Promise<Record<string, ProcessRecord>> => {
        server.signal("SIGTERM");
        expect(await server.exited).toBe(0);
        const line = server.output().split("\n").find((text) => text.startsWith("records "));
        return JSON.parse(line!.slice("records ".length));
      };
      target = bun;
      const id = `leaving-${Math.random().toString(36).slice(2)}`;
      const { socket, received, opens, closes } = roomClient(id);
      const published = () => received.filter((m) => m.startsWith("node:"));
      try {
        await expect.poll(() => received.includes("joined"), WAIT).toBe(true);
        socket.send("state=kept");
        const publishing = publishOn(node, "node", COUNT, 2);
        await expect.poll(() => published().length, WAIT).toBeGreaterThan(50);
        target = deno;
        const onBun = await shutDown(servers[bun]!);
        await expect.poll(() => opens.length, WAIT).toBeGreaterThanOrEqual(2);
        expect(opens).toHaveLength(2);
        // Deno shuts down while the publications still flow, too (unless they ended while the session moved).
        const onDenoSoFar = published().length;
        await expect.poll(() => published().length, WAIT).toBeGreaterThanOrEqual(Math.min(onDenoSoFar + 20, COUNT));
        target = 2;
        const onDeno = await shutDown(servers[deno]!);
        await publishing;
        const expected = Array.from({ length: COUNT }, (_, i) => `node:${i + 1}`);
        await expect.poll(published, WAIT).toEqual(expected);
        socket.send("who?");
        await expect.poll(() => received.find((m) => m.startsWith("who:")), WAIT)
          .toBe(`who:${JSON.stringify({ state: "kept", params: { id }, topics: ["news"] })}`);
        expect(opens).toEqual([false, true, true]);
        expect(closes).toEqual([1012, 1012]);
        expect(onBun[id]).toMatchObject({ opened: 1, closed: 0, disconnects: 1 });
        expect(onDeno[id]).toMatchObject({ opened: 0, rebuilt: 1, closed: 0, disconnects: 1 });
        const onNode = async (): Promise<ProcessRecord> => (await fetch(`${node.httpURL}/stats/${id}`)).json();
        expect(await onNode()).toMatchObject({ opened: 0, rebuilt: 1, closed: 0 });
        socket.send("close");
        await expect.poll(async () => (await onNode()).closed, WAIT).toBe(1);
      } finally {
        socket.close();
      }
    },
    120_000,
  );
});
