// crossws on Node (it serves WebSockets with ws).
import { createServer } from "node:http";
import crossws from "crossws/adapters/node";
import { echoHooks } from "./crossws-hooks.ts";
import { heapOrNotFound } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const ws = crossws({ hooks: echoHooks });

const server = createServer(heapOrNotFound());
server.on("upgrade", (request, socket, head) => {
  if (request.url === "/websocketserver") ws.handleUpgrade(request, socket, head);
  else socket.destroy();
});
server.listen(benchPort(process.env.PORT), "127.0.0.1");
