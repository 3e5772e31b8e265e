// edgesocket on Node behind Redis (build first: `npm run build`).
import { Hono } from "hono";
import { serve } from "../../dist/src/adapters/node.js";
import { redisBackplane } from "../../dist/src/backplane/redis.js";
import { websocket, WebSocketHandler } from "../../dist/src/index.js";
import { fanoutApp } from "./app.mjs";

serve(fanoutApp({ Hono, websocket, WebSocketHandler }), {
  port: Number(process.env.PORT),
  hostname: "127.0.0.1",
  backplane: redisBackplane({ url: process.env.REDIS_URL }),
});
