/**
 * The resume chaos scenario (resume-chaos.ts) with the sessions in Redis (`redisSessions`), across two Node
 * processes that share one redis-server: the proxy sends each new connection to the other process, so that nearly
 * every resume moves the session (a new handler instance there, rebuilt from what Redis keeps).
 */
import { afterAll, beforeAll, expect } from "vitest";
import type { ProcessRecord } from "../fixtures/resume-redis-app.ts";
import { redisCli, type RunningRedis, startRedis } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/runtimes.ts";
import { runResumeChaos } from "./resume-chaos.ts";

const PREFIX = "chaos";
let redis: RunningRedis;
let servers: RunningServer[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.remove();
});

/** The keys of every session in Redis, and how many messages its list keeps for replay. */
async function sessionKeys(): Promise<{ key: string; kept: number }[]> {
  const keys = (await redisCli(redis.port, "--scan", "--pattern", `${PREFIX}:s:*`)).split("\n").filter(Boolean);
  return Promise.all(keys.map(async (key) => ({
    key,
    kept: key.endsWith(":l") ? Number(await redisCli(redis.port, "LLEN", key)) : 0,
  })));
}

runResumeChaos(
  async () => {
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: PREFIX };
    servers = await Promise.all(
      [0, 1].map(() => startServer("node", "dist/test/fixtures/resume-redis-node.js", { env })),
    );
    return servers;
  },
  {
    timeout: 180_000,
    async settled(id) {
      // Redis keeps nothing for replay either; the session was rebuilt on each process in turn.
      expect((await sessionKeys()).filter(({ kept }) => kept > 0)).toEqual([]);
      for (const server of servers) {
        const record: ProcessRecord = await (await fetch(`${server.httpURL}/stats/${id}`)).json();
        expect(record.rebuilt).toBeGreaterThan(0);
      }
    },
    async closed() {
      expect(await sessionKeys()).toEqual([]);
    },
  },
);
