/**
 * The Redis backplane with real parts: one redis-server, and the rooms fixture served by Bun, Node
 * and Deno processes, each with `redisBackplane()`. Redis is killed and restarted in the middle.
 */
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Client } from "./helpers/client.ts";
import { type RunningRedis, startRedis } from "./helpers/redis.ts";
import { openClient } from "./helpers/client.ts";
import { entryOf, type RunningServer, startServer } from "./helpers/runtimes.ts";
import { openRoomClient, publications, publicationsArrived, type RoomClient } from "./conformance/rooms.ts";

describe("Redis backplane across Bun, Node and Deno processes", () => {
  let redis: RunningRedis;
  let bun: RunningServer, node: RunningServer, deno: RunningServer;
  const clients: Client[] = [];
  let probes = 0;

  const join = async (server: RunningServer, topic: string): Promise<RoomClient> => {
    const client = await openRoomClient(`${server.wsURL}/rooms`);
    clients.push(client);
    await client.command({ sub: topic });
    return client;
  };
  const publishOver = (server: RunningServer, topic: string, data: string) =>
    fetch(`${server.httpURL}/topics/${topic}/publish`, { method: "POST", body: data }).then((r) => r.text());

  /** Resolves once every server relays to every other one (after start, or Redis's return). */
  const relaying = async () => {
    const servers = [bun, node, deno];
    const topic = `probe-${probes++}`;
    const listeners = await Promise.all(servers.map((s) => join(s, topic)));
    const deadline = Date.now() + 20_000;
    for (const [i, from] of servers.entries()) {
      const others = listeners.filter((_, j) => j !== i);
      while (!others.every((c) => publications(c).includes(`from ${i}`))) {
        if (Date.now() > deadline) throw new Error("the backplane did not relay within 20 s");
        await publishOver(from, topic, `from ${i}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  /**
   * Publishes a marker over each server and waits until `subscribers` have all of them: Redis keeps
   * each process's order, so what each process published before its marker has arrived.
   */
  const settle = async (topic: string, subscribers: Client[], round: string) => {
    const markers = [bun, node, deno].map((_, i) => `marker ${round} ${i}`);
    await Promise.all([bun, node, deno].map((s, i) => publishOver(s, topic, markers[i]!)));
    const deadline = Date.now() + 15_000;
    while (!subscribers.every((c) => markers.every((m) => publications(c).includes(m)))) {
      if (Date.now() > deadline) throw new Error("markers did not arrive within 15 s");
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const withoutMarkers = (client: Client) => publications(client).filter((m) => !m.startsWith("marker"));

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url };
    [bun, node, deno] = await Promise.all([
      startServer("bun", "test/fixtures/redis-bun.ts", { env }),
      startServer("node", "dist/test/fixtures/redis-node.js", { env }),
      startServer("deno", "test/fixtures/redis-deno.ts", { env }),
    ]);
    await relaying();
  });
  afterAll(async () => {
    for (const client of clients) client.ws.terminate();
    await Promise.all([bun?.stop(), node?.stop(), deno?.stop()]);
    await redis?.stop();
  });

  test("a publication reaches the room on every process once, never its sender, never another room", async () => {
    const [bunA, bunE, nodeB, denoD] = [
      await join(bun, "x"),
      await join(bun, "x"),
      await join(node, "x"),
      await join(deno, "x"),
    ];
    const nodeC = await join(node, "y");
    bunA.ws.send(JSON.stringify({ pub: "x", data: "from bun" }));
    nodeB.ws.send(JSON.stringify({ pub: "x", data: "from node" }));
    await Promise.all([bunA.command({ topics: 1 }), nodeB.command({ topics: 1 })]); // both published by now
    await settle("x", [bunA, bunE, nodeB, denoD], "1");
    await settle("y", [nodeC], "1");
    expect(withoutMarkers(bunA)).toEqual(["from node"]);
    expect(withoutMarkers(nodeB)).toEqual(["from bun"]);
    expect(withoutMarkers(bunE).sort()).toEqual(["from bun", "from node"]);
    expect(withoutMarkers(denoD).sort()).toEqual(["from bun", "from node"]);
    expect(withoutMarkers(nodeC)).toEqual([]);
  });

  test("Redis killed and restarted: local delivery goes on, relaying resumes, nothing arrives twice", async () => {
    const [bunA, bunE, nodeB, denoD] = [
      await join(bun, "z"),
      await join(bun, "z"),
      await join(node, "z"),
      await join(deno, "z"),
    ];
    await redis.stop();
    bunA.ws.send(JSON.stringify({ pub: "z", data: "while Redis is down" }));
    expect(await publicationsArrived(bunE, 1)).toEqual(["while Redis is down"]); // same process: delivered
    await redis.start();
    await relaying();
    for (const server of [bun, node, deno]) expect(server.output()).toMatch(/unreachable[\s\S]*is back/);
    for (let i = 0; i < 20; i++) bunA.ws.send(JSON.stringify({ pub: "z", data: `bun ${i}` }));
    for (let i = 0; i < 20; i++) nodeB.ws.send(JSON.stringify({ pub: "z", data: `node ${i}` }));
    await Promise.all([bunA.command({ topics: 1 }), nodeB.command({ topics: 1 })]); // all published by now
    await settle("z", [bunA, bunE, nodeB, denoD], "2");
    const fromBun = Array.from({ length: 20 }, (_, i) => `bun ${i}`);
    const fromNode = Array.from({ length: 20 }, (_, i) => `node ${i}`);
    const only = (client: Client, prefix: string) => withoutMarkers(client).filter((m) => m.startsWith(prefix));
    // Each exactly once and in order; what was published while Redis was down stayed in its process.
    expect(only(nodeB, "bun")).toEqual(fromBun);
    expect(only(denoD, "bun")).toEqual(fromBun);
    expect(only(bunE, "bun")).toEqual(fromBun);
    expect(only(bunA, "node")).toEqual(fromNode);
    expect(only(bunE, "node")).toEqual(fromNode);
    expect(only(denoD, "node")).toEqual(fromNode);
    expect(withoutMarkers(bunA).filter((m) => m.startsWith("bun"))).toEqual([]);
    expect(withoutMarkers(bunE).filter((m) => m.startsWith("while"))).toEqual(["while Redis is down"]);
    expect(withoutMarkers(nodeB).concat(withoutMarkers(denoD)).filter((m) => m.startsWith("while"))).toEqual([]);
  });

  test("a long outage is logged once per process across many reconnection attempts, and its end once", async () => {
    const servers = [bun, node, deno];
    const logged = servers.map((s) => s.output().length);
    const since = (i: number) => servers[i]!.output().slice(logged[i]);
    await redis.stop();
    // Stands in for Redis on its port: counts each reconnection attempt and drops it before any reply.
    let attempts = 0;
    const port = Number(new URL(redis.url).port);
    const standIn = createServer((socket) => (attempts++, socket.destroy()));
    await new Promise<void>((resolve) => standIn.listen(port, "127.0.0.1", resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (attempts < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(attempts).toBeGreaterThanOrEqual(30); // five per client of the three processes' six
    } finally {
      await new Promise((resolve) => standIn.close(resolve));
    }
    await redis.start();
    await relaying();
    for (const i of servers.keys()) {
      expect(since(i).match(/unreachable/g)).toHaveLength(1);
      expect(since(i).match(/is back, relaying/g)).toHaveLength(1);
    }
  });

  test("close() resolves and frees the process's Redis connections; the others keep relaying", async () => {
    const clientsOnRedis = async () => (await redisCli(redis.url, "CLIENT", "LIST")).trim().split("\n").length;
    const before = await clientsOnRedis();
    const res = await fetch(`${node.httpURL}/backplane/close`, { method: "POST" });
    expect(await res.text()).toBe("closed");
    expect(await clientsOnRedis()).toBe(before - 2); // its publisher and its subscriber
    const [bunA, denoD, nodeB] = [await join(bun, "w"), await join(deno, "w"), await join(node, "w")];
    bunA.ws.send(JSON.stringify({ pub: "w", data: "after node's close" }));
    bunA.ws.send(JSON.stringify({ pub: "w", data: "and after that" }));
    expect(await publicationsArrived(denoD, 2)).toEqual(["after node's close", "and after that"]);
    await nodeB.command({ topics: 1 }); // a round trip on node after both reached Deno
    expect(publications(nodeB)).toEqual([]);
  });
});

/** Runs one command with `redis-cli` (Debian's redis-tools, next to redis-server) and returns its output. */
function redisCli(url: string, ...command: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("redis-cli", ["-u", url, ...command], (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

describe("the chat demo on two processes behind Redis", () => {
  let redis: RunningRedis;
  let servers: RunningServer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url };
    servers = await Promise.all([
      startServer("bun", entryOf("bun", "demo"), { readyPath: "/", env }),
      startServer("deno", entryOf("deno", "demo"), { readyPath: "/", env }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await redis?.stop();
  });

  test("a message in a room on Bun reaches the same room on Deno", async () => {
    const [onBun, onDeno] = servers as [RunningServer, RunningServer];
    const bob = await openClient(`${onDeno.wsURL}/chat/lobby`);
    const ann = await openClient(`${onBun.wsURL}/chat/lobby`);
    const deadline = Date.now() + 20_000;
    let sent = 0;
    // Until the backplane has connected, a message reaches only its own process.
    while (!bob.messages.map(String).some((m) => m.includes('"text":"hi'))) {
      if (Date.now() > deadline) throw new Error("no message crossed within 20 s");
      ann.ws.send(JSON.stringify({ name: "ann", text: `hi ${sent++}` }));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(bob.messages.map((m) => JSON.parse(String(m))).filter((m) => m.text)[0]).toMatchObject({ name: "ann" });
    ann.ws.close();
    bob.ws.close();
  });
});
