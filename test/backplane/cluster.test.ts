/**
 * The Redis backplane on a real Redis Cluster (three masters, three replicas from Debian's
 * redis-server): Bun, Node and Deno processes of the rooms fixture, each given a different node to
 * start from. Sharded pub/sub puts each topic's channel on the shard that owns its slot; a master is
 * killed and its replica takes over.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { redisCli, type RunningCluster, startRedisCluster } from "../helpers/redis.ts";
import { entryOf, type RunningServer, startServer } from "../helpers/runtimes.ts";
import { publications } from "../conformance/rooms.ts";
import {
  allArrived,
  chatCrosses,
  countReaches,
  inLobby,
  onlyOwnTopicsArrive,
  publishOver,
  range,
  Rooms,
} from "./scenarios.ts";

let cluster: RunningCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.remove();
});

describe("Redis backplane on a Redis Cluster", () => {
  let bun: RunningServer, node: RunningServer, deno: RunningServer;
  const rooms = new Rooms();

  /** The channels of topics named `pattern` each master holds (`PUBSUB SHARDCHANNELS`). */
  const channelsByMaster = async (pattern: string) => {
    const masters = await cluster.masters();
    const lists = await Promise.all(
      masters.map((m) => redisCli(m.port, "PUBSUB", "SHARDCHANNELS", `edgesocket:*:${pattern}`)),
    );
    return new Map(masters.map((m, i) => [m, lists[i]!.split("\n").filter(Boolean)]));
  };

  beforeAll(async () => {
    // Each process starts from a different master; it discovers the rest.
    const [first, second, third] = (await cluster.masters()).map((m) => ({ REDIS_CLUSTER: `127.0.0.1:${m.port}` }));
    [bun, node, deno] = await Promise.all([
      startServer("bun", "test/fixtures/redis-bun.ts", { env: first! }),
      startServer("node", "dist/test/fixtures/redis-node.js", { env: second! }),
      startServer("deno", "test/fixtures/redis-deno.ts", { env: third! }),
    ]);
    await rooms.relaying([bun, node, deno]);
  });
  afterAll(async () => {
    rooms.close();
    await Promise.all([bun?.stop(), node?.stop(), deno?.stop()]);
  });

  test("a publication reaches the room on the three processes once, in order", async () => {
    const listeners = [await rooms.join(bun, "c"), await rooms.join(node, "c"), await rooms.join(deno, "c")];
    await countReaches(node, "c", 3);
    for (let i = 0; i < 10; i++) await publishOver(deno, "c", `deno ${i}`);
    await allArrived(listeners, 10);
    for (const client of listeners) expect(publications(client)).toEqual(range(10, "deno"));
  });

  test("a channel per topic: a process receives only the topics it has subscribers of", async () => {
    await onlyOwnTopicsArrive(rooms, [bun, node, deno], "cluster");
  });

  test("1,000 topics spread over the shards; each reaches its subscribers", async () => {
    const topics = range(1000, "spread").map((name) => name.replace(" ", "-"));
    const [onBun, onDeno] = [await rooms.join(bun, topics[0]!), await rooms.join(deno, topics[0]!)];
    // One command per batch of subscriptions: both clients join all 1,000 topics in one go.
    for (const client of [onBun, onDeno]) {
      for (const topic of topics.slice(1)) client.ws.send(JSON.stringify({ sub: topic }));
      await client.command({ topics: 1 });
    }
    await countReaches(node, topics.at(-1)!, 2);
    const byMaster = await channelsByMaster("spread-*");
    const counts = [...byMaster.values()].map((channels) => channels.length);
    expect(counts.reduce((a, b) => a + b)).toBe(1000);
    expect(counts.filter((n) => n > 0).length).toBeGreaterThan(1);
    // Each channel is held by the master that owns its slot, with both processes subscribed there.
    const owners = new Set<number>();
    for (const [master, channels] of byMaster) {
      for (const channel of channels.slice(0, 5)) {
        const owner = await cluster.ownerOf(await cluster.keyslot(channel));
        expect(owner.port).toBe(master.port);
        expect(await redisCli(owner.port, "PUBSUB", "SHARDNUMSUB", channel)).toBe(`${channel}\n2`);
        owners.add(owner.port);
      }
    }
    expect(owners.size).toBeGreaterThan(1);
    for (const topic of topics) await publishOver(node, topic, topic);
    await allArrived([onBun, onDeno], 1000);
    // Each exactly once; topics on different shards keep no order between them.
    for (const client of [onBun, onDeno]) expect(publications(client).sort()).toEqual([...topics].sort());
  });

  test("a master killed: its replica takes over, delivery resumes with every subscription, nothing twice", async () => {
    const listeners = [await rooms.join(bun, "failover"), await rooms.join(deno, "failover")];
    await countReaches(node, "failover", 2);
    const [victim, [channel]] = [...(await channelsByMaster("failover"))].find(([, channels]) => channels.length)!;
    let sent = 0;
    await publishOver(node, "failover", `failover ${sent++}`);
    await allArrived(listeners, 1);
    await victim.stop();
    const killedAt = Date.now();
    const firstAfterKill = sent;
    // Publish every 50 ms until a publication made after the kill reaches both subscribers.
    const resumed = () =>
      listeners.every((c) => publications(c).some((m) => Number(m.split(" ")[1]) >= firstAfterKill));
    while (!resumed()) {
      if (Date.now() > killedAt + 60_000) throw new Error("delivery did not resume within 60 s of the kill");
      await publishOver(node, "failover", `failover ${sent++}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`failover: delivery resumed ${Date.now() - killedAt} ms after the master was killed`);
    await cluster.healthy();
    const owner = await cluster.ownerOf(await cluster.keyslot(channel!));
    expect(owner.port).not.toBe(victim.port);
    // Both processes are subscribed again, on the promoted replica.
    expect(await redisCli(owner.port, "PUBSUB", "SHARDNUMSUB", channel!)).toBe(`${channel}\n2`);
    const tail = range(20, "tail");
    for (const message of tail) await publishOver(node, "failover", message);
    const deadline = Date.now() + 20_000;
    while (!listeners.every((c) => publications(c).at(-1) === "tail 19")) {
      if (Date.now() > deadline) throw new Error("the tail did not arrive within 20 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const client of listeners) {
      const got = publications(client);
      expect(new Set(got).size).toBe(got.length); // nothing twice
      const numbers = got.filter((m) => m.startsWith("failover")).map((m) => Number(m.split(" ")[1]));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b)); // in order, with a gap during the failover
      expect(got.slice(-20)).toEqual(tail);
    }
  });
});

describe("the chat demo on Node, Bun and Deno with REDIS_CLUSTER", () => {
  let demos: RunningServer[] = [];

  beforeAll(async () => {
    await cluster.healthy(); // after the failover above
    const env = { REDIS_CLUSTER: cluster.addresses };
    demos = await Promise.all(
      (["node", "bun", "deno"] as const).map((runtime) =>
        startServer(runtime, entryOf(runtime, "demo"), { readyPath: "/", env })
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(demos.map((demo) => demo.stop()));
  });

  test("a message in a room on Bun reaches the same room on Node and on Deno", async () => {
    const [onNode, onBun, onDeno] = demos as [RunningServer, RunningServer, RunningServer];
    await chatCrosses(onBun.wsURL, await inLobby([onNode.wsURL, onDeno.wsURL]));
  });
});
