/**
 * What keeping resumable sessions in Redis (`redisSessions`) costs per message sent, against sessions in memory:
 * the CPU time of this process and of redis-server, per message, for one session streaming and for 1,000 sessions
 * (a publication to all of them, or a message from each). The sessions have no socket (a transport that drops what
 * it is given): what is measured is the session and its journal, not the network. Each client confirms every 64
 * messages, as `EdgeSocket` does. Redis's CPU time is read from `INFO cpu` once it is idle again.
 *
 *     npx bun bench/backplane/session-journal.ts [rounds]
 */
import { redisBackplane, redisSessions } from "../../src/backplane/redis.ts";
import { Connection } from "../../src/core/connection.ts";
import { resolveOptions } from "../../src/core/options.ts";
import { Runtime } from "../../src/core/runtime.ts";
import { SessionLink } from "../../src/core/session.ts";
import { WebSocketHandler } from "../../src/index.ts";
import { redisCli, startRedis } from "../../test/helpers/redis.ts";

const ROUNDS = Number(process.argv[2] ?? 640);
const PAYLOAD = "x".repeat(48);
const LIMITS = resolveOptions({ idleTimeout: 0, resume: { window: 60, maxMessages: 1e6, maxBytes: 2 ** 30 } });
const DROP = { send() {}, close() {}, bufferedAmount: 0 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const turn = () => new Promise((resolve) => setImmediate(resolve));

const redis = await startRedis();

/** redis-server's CPU time so far, in µs. */
async function redisCpu(): Promise<number> {
  const info = await redisCli(redis.port, "INFO", "cpu");
  const seconds = (name: string) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))?.[1] ?? 0);
  return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6;
}

/** `sessions` sessions of one server, in memory or in Redis, each in topic "room". */
async function server(inRedis: boolean, sessions: number) {
  const backplane = inRedis ? redisBackplane({ url: redis.url }) : undefined;
  const runtime = new Runtime({
    upgrade: () => new Response(null),
    backplane,
    sessions: inRedis ? redisSessions(backplane!) : true,
  });
  await sleep(300);
  const links = Array.from({ length: sessions }, () => {
    const link = new SessionLink(new Connection(new WebSocketHandler(), LIMITS, undefined, runtime), "/bench");
    link.open(DROP);
    link.receive("\0h0 "); // a new session
    runtime.pubsub!.subscribe(link.fresh, "room");
    return link;
  });
  await sleep(300);
  return { runtime, backplane, links };
}

async function measure(what: string, sessions: number, perTurn: number, fanOut: boolean): Promise<void> {
  for (const inRedis of [false, true]) {
    const { runtime, backplane, links } = await server(inRedis, sessions);
    const started = process.cpuUsage();
    const redisStarted = await redisCpu();
    let sent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < perTurn; i++) {
        if (fanOut) runtime.pubsub!.publish("room", PAYLOAD);
        else for (const link of links) link.fresh.send(PAYLOAD);
      }
      sent += perTurn;
      if (sent % 64 === 0 || round === ROUNDS - 1) { for (const link of links) link.receive(`\0a${sent}`); }
      await turn();
    }
    // Until Redis has done what it was sent.
    for (let last = -1, now = await redisCpu(); now - last > 2000; await sleep(50)) {
      [last, now] = [now, await redisCpu()];
    }
    const cpu = process.cpuUsage(started);
    const messages = ROUNDS * perTurn * sessions;
    const own = (cpu.user + cpu.system) / messages;
    const redisTime = (await redisCpu() - redisStarted) / messages;
    console.log(
      `${what}, ${inRedis ? "Redis " : "memory"}: ${own.toFixed(2)} µs of this process, ` +
        `${redisTime.toFixed(2)} µs of redis-server per message (${messages} messages)`,
    );
    for (const link of links) link.closed(1000, "");
    await sleep(300);
    await backplane?.close();
  }
}

await measure("1 session streaming, 64 messages per turn", 1, 64, false);
await measure("1,000 sessions, a publication to all per turn", 1000, 1, true);
await measure("1,000 sessions, a message from each per turn", 1000, 1, false);
await redis.remove();
process.exit(0);
