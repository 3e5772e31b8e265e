// The raw runtime API on workerd: a WebSocketPair accepted in the worker, no framework.
export default {
  fetch(request: Request): Response {
    if (new URL(request.url).pathname !== "/websocketserver" || request.headers.get("upgrade") !== "websocket") {
      return new Response("not found", { status: 404 });
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket & { accept(): void }];
    server.binaryType = "arraybuffer";
    server.accept();
    server.addEventListener("message", (event) => server.send(event.data as string | ArrayBuffer));
    return new Response(null, { status: 101, webSocket: client } as ResponseInit);
  },
};
