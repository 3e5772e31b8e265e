// A reference for `node dist/bench/ab.js` and the resume scenario's floor on Node (not in the main run): raw ws as
// node-rawtext, with what a socket sends in one turn of the event loop written together as the Node adapter does
// (the turn's first reply is written at once and corks the TCP socket, the turn's end uncorks it). What edgesocket's
// own work costs on Node once both write alike. Without the adapter's 16 KiB flush: an echo's batch stays under it.
import { createServer } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { heapOrNotFound } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const server = createServer(heapOrNotFound());
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on("upgrade", (request, socket, head) => {
  if (request.url !== "/websocketserver") return socket.destroy();
  wss.handleUpgrade(request, socket, head, (ws) => {
    let corked = false;
    const uncork = (tcp: Duplex) => {
      corked = false;
      tcp.uncork();
    };
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => {
      ws.send(isBinary ? data : (data as Buffer).toString());
      if (corked) return;
      corked = true;
      socket.cork();
      process.nextTick(uncork, socket);
    });
  });
});
server.listen(benchPort(process.env.PORT), "127.0.0.1");
