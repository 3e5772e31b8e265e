// Hono's own helper on Bun: upgradeWebSocket and websocket from hono/bun.
import { upgradeWebSocket, websocket } from "hono/bun";
import { honoEchoApp } from "./hono-app.ts";
import { benchPort } from "./listen-port.ts";

const app = honoEchoApp(upgradeWebSocket);

Bun.serve({ port: benchPort(process.env.PORT), hostname: "127.0.0.1", fetch: app.fetch, websocket });
