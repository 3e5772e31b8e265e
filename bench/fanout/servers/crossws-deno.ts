// crossws on Deno with its Redis sync. PORT and REDIS_URL come from the runner.
import crossws from "crossws/adapters/deno";
import { benchPort } from "../../servers/listen-port.ts";
import { hooks, redisSync } from "./crossws-hooks.ts";

const ws = crossws({ hooks, sync: await redisSync(Deno.env.get("REDIS_URL")) });
Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, (request, info) => {
  if (new URL(request.url).pathname === "/health") return new Response("ok");
  return ws.handleUpgrade(request, info);
});
