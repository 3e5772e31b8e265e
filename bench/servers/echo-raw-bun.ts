// The raw runtime API: Bun.serve with a websocket handler, no framework. `/subscribe` and `/publish`
// serve the broadcast scenario with Bun's native topics (`ws.subscribe`, `server.publish`); echo
// sockets carry no data.
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const TOPIC = "bench";
type Role = "subscriber" | "publisher" | undefined;

const heap = heapResponder();
const server = Bun.serve<Role>({
  port: benchPort(process.env.PORT),
  hostname: "127.0.0.1",
  fetch(request, server) {
    const path = new URL(request.url).pathname;
    if (path === "/websocketserver" && server.upgrade(request)) return undefined;
    if (path === "/subscribe" && server.upgrade(request, { data: "subscriber" })) return undefined;
    if (path === "/publish" && server.upgrade(request, { data: "publisher" })) return undefined;
    if (path === HEAP_PATH) return heap();
    return new Response("not found", { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      if (ws.data === "subscriber") ws.subscribe(TOPIC);
    },
    message(ws, message) {
      if (ws.data === "publisher") server.publish(TOPIC, message);
      else ws.send(message);
    },
  },
});
