// edgesocket on Deno behind Redis.
import { Hono } from "hono";
import { serve } from "../../src/adapters/deno.ts";
import { redisBackplane } from "../../src/backplane/redis.ts";
import { websocket, WebSocketHandler } from "../../src/index.ts";
import { fanoutApp } from "./app.mjs";

serve(fanoutApp({ Hono, websocket, WebSocketHandler }), {
  port: Number(Deno.env.get("PORT")),
  hostname: "127.0.0.1",
  backplane: redisBackplane({ url: Deno.env.get("REDIS_URL") }),
});
