// Hono's own helper on Bun: upgradeWebSocket and websocket from hono/bun.
import { Hono } from "hono";
import { upgradeWebSocket, websocket } from "hono/bun";
import { benchPort } from "./port.ts";

const app = new Hono();
app.get(
  "/websocketserver",
  upgradeWebSocket(() => ({
    onMessage(event, ws) {
      ws.send(event.data as string | ArrayBuffer);
    },
  })),
);

Bun.serve({ port: benchPort(process.env.PORT), hostname: "127.0.0.1", fetch: app.fetch, websocket });
