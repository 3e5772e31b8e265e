// The raw runtime API: Deno.serve and Deno.upgradeWebSocket, no framework.
import { benchPort } from "./listen-port.ts";

Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, (request) => {
  if (new URL(request.url).pathname !== "/websocketserver" || request.headers.get("upgrade") !== "websocket") {
    return new Response("not found", { status: 404 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
});
