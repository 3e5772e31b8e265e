// The raw runtime API on Node: a ws WebSocketServer on node:http, no framework.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { heapOrNotFound } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const server = createServer(heapOrNotFound());
const wss = new WebSocketServer({ server, path: "/websocketserver", perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(benchPort(process.env.PORT), "127.0.0.1");
