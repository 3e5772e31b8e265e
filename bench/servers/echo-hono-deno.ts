// Hono's own helper on Deno: upgradeWebSocket from hono/deno.
import { upgradeWebSocket } from "hono/deno";
import { honoEchoApp } from "./hono-app.ts";
import { withHeapRoute } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const app = withHeapRoute(honoEchoApp(upgradeWebSocket));

Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
