// The raw runtime API: Deno.serve and Deno.upgradeWebSocket, no framework.
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const heap = heapResponder();

Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, (request) => {
  const path = new URL(request.url).pathname;
  if (path === HEAP_PATH) return heap();
  if (path !== "/websocketserver" || request.headers.get("upgrade") !== "websocket") {
    return new Response("not found", { status: 404 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
});
