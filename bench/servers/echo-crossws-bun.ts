// crossws on Bun.
import crossws from "crossws/adapters/bun";
import { echoHooks } from "./crossws-hooks.ts";
import { benchPort } from "./listen-port.ts";

const ws = crossws({ hooks: echoHooks });

Bun.serve({
  port: benchPort(process.env.PORT),
  hostname: "127.0.0.1",
  websocket: ws.websocket,
  fetch(request, server) {
    if (new URL(request.url).pathname === "/websocketserver") return ws.handleUpgrade(request, server);
    return new Response("not found", { status: 404 });
  },
});
