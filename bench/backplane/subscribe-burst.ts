/**
 * How many Redis commands and how long it takes one process to subscribe to 10,000 rooms that
 * its connections join in a burst (100 joins per event-loop turn, as they would arrive from the
 * network), on one redis-server and on a 3-master Redis Cluster, for several batch windows.
 * Commands are counted by Redis itself (`INFO commandstats`).
 *
 *     npx bun bench/backplane/subscribe-burst.ts [rooms]
 */
import { redisBackplane, type RedisBackplaneOptions } from "../../src/backplane/redis.ts";
import { redisCli, startRedis, startRedisCluster } from "../../test/helpers/redis.ts";

const ROOMS = Number(process.argv[2] ?? 10_000);
const JOINS_PER_TURN = 100;
const WINDOWS = [0, 5, 20];

/** Sum over `ports` of the calls of `command` (`subscribe`, `ssubscribe`). */
async function calls(ports: number[], command: string): Promise<number> {
  const stats = await Promise.all(ports.map((port) => redisCli(port, "INFO", "commandstats")));
  return stats.reduce(
    (sum, text) => sum + Number(text.match(new RegExp(`cmdstat_${command}:calls=(\\d+)`))?.[1] ?? 0),
    0,
  );
}

/** How many channels named `prefix:*` the servers on `ports` hold. */
async function channels(ports: number[], list: string, prefix: string): Promise<number> {
  const lists = await Promise.all(ports.map((port) => redisCli(port, "PUBSUB", list, `${prefix}:*`)));
  return lists.reduce((sum, text) => sum + text.split("\n").filter(Boolean).length, 0);
}

async function burst(options: RedisBackplaneOptions, ports: number[], cluster: boolean) {
  const [command, list] = cluster ? ["ssubscribe", "SHARDCHANNELS"] : ["subscribe", "CHANNELS"];
  const prefix = `burst${options.batchWindow}`;
  const backplane = redisBackplane({ ...options, prefix });
  backplane.start(() => {}, () => 0);
  await new Promise((r) => setTimeout(r, 1000)); // connected, reply channel subscribed
  const before = await calls(ports, command);
  const started = performance.now();
  for (let i = 0; i < ROOMS; i++) {
    backplane.subscribe!(`room-${i}`);
    if (i % JOINS_PER_TURN === JOINS_PER_TURN - 1) await new Promise((r) => setImmediate(r));
  }
  while (await channels(ports, list, prefix) < ROOMS) await new Promise((r) => setTimeout(r, 5));
  const elapsed = performance.now() - started;
  const commands = (await calls(ports, command)) - before;
  await backplane.close();
  return { commands, elapsed };
}

const rows: string[] = [];
const redis = await startRedis();
try {
  for (const batchWindow of WINDOWS) {
    const { commands, elapsed } = await burst({ url: redis.url, batchWindow }, [redis.port], false);
    rows.push(`| one server | ${batchWindow} ms | ${commands} | ${elapsed.toFixed(0)} ms |`);
  }
} finally {
  await redis.remove();
}
const cluster = await startRedisCluster();
try {
  const masters = (await cluster.masters()).map((m) => m.port);
  const rootNodes = [`redis://127.0.0.1:${masters[0]}`];
  for (const batchWindow of WINDOWS) {
    const { commands, elapsed } = await burst({ cluster: rootNodes, batchWindow }, masters, true);
    rows.push(`| cluster, 3 masters | ${batchWindow} ms | ${commands} | ${elapsed.toFixed(0)} ms |`);
  }
} finally {
  await cluster.remove();
}
console.log(`${ROOMS} rooms joined by one process, ${JOINS_PER_TURN} joins per event-loop turn\n`);
console.log("| Redis | batch window | SUBSCRIBE/SSUBSCRIBE commands | until all subscribed |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
process.exit(0);
