// crossws on Node (ws underneath) with its Redis sync. PORT and REDIS_URL come from the runner.
import crossws from "crossws/adapters/node";
import { createServer } from "node:http";
import process from "node:process";
import { benchPort } from "../../servers/listen-port.ts";
import { hooks, redisSync } from "./crossws-hooks.ts";

const ws = crossws({ hooks, sync: await redisSync(process.env.REDIS_URL) });
const server = createServer((request, response) => {
  if (request.url === "/health") response.end("ok");
});
server.on("upgrade", (request, socket, head) => ws.handleUpgrade(request, socket, head));
server.listen(benchPort(process.env.PORT), "127.0.0.1");
