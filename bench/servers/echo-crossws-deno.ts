// crossws on Deno.
import crossws from "crossws/adapters/deno";
import { echoHooks } from "./crossws-hooks.ts";
import { benchPort } from "./listen-port.ts";

const ws = crossws({ hooks: echoHooks });

Deno.serve({ port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} }, (request, info) => {
  if (new URL(request.url).pathname === "/websocketserver") return ws.handleUpgrade(request, info);
  return new Response("not found", { status: 404 });
});
