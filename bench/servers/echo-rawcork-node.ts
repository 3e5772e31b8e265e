// A reference for `node dist/bench/ab.js` and the resume scenario's floor on Node (not in the main run): raw ws as
// node-rawtext, with what a socket sends in one turn of the event loop written together as the Node adapter does
// (turn-writes.ts). What edgesocket's own work costs on Node once both write alike.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { heapOrNotFound } from "./heap.ts";
import { benchPort } from "./listen-port.ts";
import { sendByTurn } from "./turn-writes.ts";

const server = createServer(heapOrNotFound());
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on("upgrade", (request, socket, head) => {
  if (request.url !== "/websocketserver") return socket.destroy();
  wss.handleUpgrade(request, socket, head, (ws) => {
    const send = sendByTurn(ws, socket);
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => send(isBinary ? data as Buffer : (data as Buffer).toString()));
  });
});
server.listen(benchPort(process.env.PORT), "127.0.0.1");
