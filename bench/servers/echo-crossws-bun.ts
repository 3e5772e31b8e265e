// crossws on Bun.
import crossws from "crossws/adapters/bun";
import { echoHooks } from "./crossws-hooks.ts";
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const ws = crossws({ hooks: echoHooks });
const heap = heapResponder();

Bun.serve({
  port: benchPort(process.env.PORT),
  hostname: "127.0.0.1",
  websocket: ws.websocket,
  fetch(request, server) {
    const path = new URL(request.url).pathname;
    if (path === "/websocketserver") return ws.handleUpgrade(request, server);
    if (path === HEAP_PATH) return heap();
    return new Response("not found", { status: 404 });
  },
});
