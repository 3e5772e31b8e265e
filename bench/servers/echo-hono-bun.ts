// Hono's own helper on Bun: upgradeWebSocket and websocket from hono/bun.
import { upgradeWebSocket, websocket } from "hono/bun";
import { honoEchoApp } from "./hono-app.ts";
import { withHeapRoute } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const app = withHeapRoute(honoEchoApp(upgradeWebSocket));

Bun.serve({ port: benchPort(process.env.PORT), hostname: "127.0.0.1", fetch: app.fetch, websocket });
