// The raw Deno echo with the resume protocol written by hand (raw-resume.ts): the resume scenario's floor on Deno,
// against `echo-raw-deno.ts`.
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";
import { RawSession, RESUME_PROTOCOL } from "./raw-resume.ts";

type Message = string | ArrayBuffer;

const heap = heapResponder();

Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, (request) => {
  const path = new URL(request.url).pathname;
  if (path === HEAP_PATH) return heap();
  if (path !== "/websocketserver" || request.headers.get("upgrade") !== "websocket") {
    return new Response("not found", { status: 404 });
  }
  const offered = request.headers.get("sec-websocket-protocol")?.split(",").map((p) => p.trim()) ?? [];
  const { socket, response } = Deno.upgradeWebSocket(request);
  if (offered.includes(RESUME_PROTOCOL)) response.headers.set("sec-websocket-protocol", RESUME_PROTOCOL);
  socket.binaryType = "arraybuffer";
  const session = new RawSession<Message>();
  session.socket = socket;
  socket.onmessage = ({ data }) => {
    if (typeof data !== "string" || data.charCodeAt(0) !== 0) session.echo(data);
    else if (!session.control(data)) socket.close(1002, "unexpected control frame");
  };
  socket.onclose = () => session.stop();
  return response;
});
