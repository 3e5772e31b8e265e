// Hono's own helper on workerd: upgradeWebSocket from hono/cloudflare-workers.
import { Hono } from "hono";
import { upgradeWebSocket } from "hono/cloudflare-workers";

const app = new Hono();
app.get(
  "/websocketserver",
  upgradeWebSocket(() => ({
    onMessage(event, ws) {
      ws.send(event.data as string | ArrayBuffer);
    },
  })),
);

export default app;
