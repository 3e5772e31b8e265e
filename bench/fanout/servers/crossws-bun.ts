// crossws on Bun with its Redis sync. PORT and REDIS_URL come from the runner.
import crossws from "crossws/adapters/bun";
import { benchPort } from "../../servers/listen-port.ts";
import { hooks, redisSync } from "./crossws-hooks.ts";

const ws = crossws({ hooks, sync: await redisSync(process.env.REDIS_URL) });
Bun.serve({
  port: benchPort(process.env.PORT),
  hostname: "127.0.0.1",
  websocket: ws.websocket,
  fetch(request, server) {
    if (new URL(request.url).pathname === "/health") return new Response("ok");
    return ws.handleUpgrade(request, server);
  },
});
