// Hono's own helper on Deno: upgradeWebSocket from hono/deno.
import { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
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

Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
