// The raw runtime API: Bun.serve with a websocket handler, no framework.
import { benchPort } from "./port.ts";

Bun.serve({
  port: benchPort(process.env.PORT),
  hostname: "127.0.0.1",
  fetch(request, server) {
    if (new URL(request.url).pathname === "/websocketserver" && server.upgrade(request)) return undefined;
    return new Response("not found", { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    message(ws, message) {
      ws.send(message);
    },
  },
});
