// A reference, not part of the default run: raw ws as node-raw, but text is decoded to a string and sent
// back as one, as every handler API with string messages does (edgesocket, Hono's helper). Compare with
// `--servers node-raw,node-rawtext,node-edgesocket`.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { heapOrNotFound } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const server = createServer(heapOrNotFound());
const wss = new WebSocketServer({ server, path: "/websocketserver", perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => ws.send(isBinary ? data : (data as Buffer).toString()));
});
server.listen(benchPort(process.env.PORT), "127.0.0.1");
