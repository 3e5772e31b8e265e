// edgesocket on Bun behind Redis.
import { Hono } from "hono";
import { serve } from "../../src/adapters/bun.ts";
import { redisBackplane } from "../../src/backplane/redis.ts";
import { websocket, WebSocketHandler } from "../../src/index.ts";
import { fanoutApp } from "./app.mjs";

serve(fanoutApp({ Hono, websocket, WebSocketHandler }), {
  port: Number(process.env.PORT),
  hostname: "127.0.0.1",
  backplane: redisBackplane({ url: process.env.REDIS_URL }),
});
