// What the raw Deno echoes share: Deno.serve on the bench port, the heap route, and Deno.upgradeWebSocket on
// /websocketserver with binary as ArrayBuffer; each echo only wires its socket.
import { offeredSubprotocols } from "../../src/core/handshake.ts";
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

/**
 * Serves the bench's WebSocket route with the raw Deno API: `wire` sets up each socket; `protocol`, if given, is
 * selected when the client offers it.
 */
export function serveRawDeno(wire: (socket: WebSocket) => void, protocol?: string): void {
  const heap = heapResponder();
  Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === HEAP_PATH) return heap();
    if (path !== "/websocketserver" || request.headers.get("upgrade") !== "websocket") {
      return new Response("not found", { status: 404 });
    }
    // Read before the upgrade, which consumes the request.
    const selected = protocol !== undefined &&
      offeredSubprotocols(request.headers.get("sec-websocket-protocol")).includes(protocol);
    const { socket, response } = Deno.upgradeWebSocket(request);
    if (selected) response.headers.set("sec-websocket-protocol", protocol);
    socket.binaryType = "arraybuffer";
    wire(socket);
    return response;
  });
}
