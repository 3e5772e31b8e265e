// crossws on Deno.
import crossws from "crossws/adapters/deno";
import { echoHooks } from "./crossws-hooks.ts";
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const ws = crossws({ hooks: echoHooks });
const heap = heapResponder();

Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, (request, info) => {
  const path = new URL(request.url).pathname;
  if (path === "/websocketserver") return ws.handleUpgrade(request, info);
  if (path === HEAP_PATH) return heap();
  return new Response("not found", { status: 404 });
});
