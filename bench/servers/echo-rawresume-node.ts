// Raw `ws` with the resume protocol written by hand (raw-resume.ts), writing what a socket sends in one turn together
// as echo-rawcork-node.ts does (turn-writes.ts): the resume scenario's floor on Node, against that server.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { heapOrNotFound } from "./heap.ts";
import { benchPort } from "./listen-port.ts";
import { RawSession, RESUME_PROTOCOL } from "./raw-resume.ts";
import { sendByTurn } from "./turn-writes.ts";

type Message = string | Buffer;

const server = createServer(heapOrNotFound());
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  handleProtocols: (offered) => (offered.has(RESUME_PROTOCOL) ? RESUME_PROTOCOL : false),
});
server.on("upgrade", (request, socket, head) => {
  if (request.url !== "/websocketserver") return socket.destroy();
  wss.handleUpgrade(request, socket, head, (ws) => {
    const session = new RawSession<Message>();
    session.socket = { send: sendByTurn(ws, socket) };
    ws.on("error", () => {});
    ws.on("close", () => session.stop());
    ws.on("message", (data, isBinary) => {
      if (isBinary) return session.echo(data as Buffer);
      const text = (data as Buffer).toString();
      if (text.charCodeAt(0) !== 0) session.echo(text);
      else if (!session.control(text)) ws.close(1002, "unexpected control frame");
    });
  });
});
server.listen(benchPort(process.env.PORT), "127.0.0.1");
