// Hono's own helper on workerd: upgradeWebSocket from hono/cloudflare-workers.
import { upgradeWebSocket } from "hono/cloudflare-workers";
import { honoEchoApp } from "./hono-app.ts";

export default honoEchoApp(upgradeWebSocket);
