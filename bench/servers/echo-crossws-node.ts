// crossws on Node (it serves WebSockets with ws).
import { createServer } from "node:http";
import crossws from "crossws/adapters/node";
import { echoHooks } from "./crossws-hooks.ts";
import { HEAP_PATH, heapWriter } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const ws = crossws({ hooks: echoHooks });

const heap = heapWriter();
const server = createServer((request, response) => {
  if (request.url === HEAP_PATH) heap(response);
  else response.writeHead(404).end();
});
server.on("upgrade", (request, socket, head) => {
  if (request.url === "/websocketserver") ws.handleUpgrade(request, socket, head);
  else socket.destroy();
});
server.listen(benchPort(process.env.PORT), "127.0.0.1");
