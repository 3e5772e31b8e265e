// Hono's own helper on Node: @hono/node-ws with @hono/node-server.
import { serve } from "@hono/node-server";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import { echoEvents } from "./hono-app.ts";
import { withHeapRoute } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const app = withHeapRoute(new Hono());
const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app });
app.get("/websocketserver", upgradeWebSocket(echoEvents));

const server = serve({ fetch: app.fetch, port: benchPort(process.env.PORT), hostname: "127.0.0.1" });
injectWebSocket(server);
