// The raw Bun echo with the resume protocol written by hand (raw-resume.ts): the resume scenario's floor on Bun,
// against `echo-raw-bun.ts`.
import { offeredSubprotocols } from "../../src/core/handshake.ts";
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";
import { RawSession, RESUME_PROTOCOL } from "./raw-resume.ts";

type Message = string | Uint8Array;

const heap = heapResponder();
Bun.serve<RawSession<Message>>({
  port: benchPort(process.env.PORT),
  hostname: "127.0.0.1",
  fetch(request, server) {
    const path = new URL(request.url).pathname;
    if (path === HEAP_PATH) return heap();
    const offered = offeredSubprotocols(request.headers.get("sec-websocket-protocol"));
    const headers = { "sec-websocket-protocol": offered.includes(RESUME_PROTOCOL) ? RESUME_PROTOCOL : "" };
    if (path === "/websocketserver" && server.upgrade(request, { data: new RawSession(), headers })) return undefined;
    return new Response("not found", { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.data.socket = ws;
    },
    message(ws, message) {
      const session = ws.data;
      if (typeof message !== "string" || message.charCodeAt(0) !== 0) session.echo(message);
      else if (!session.control(message)) ws.close(1002, "unexpected control frame");
    },
    close(ws) {
      ws.data.stop();
    },
  },
});
