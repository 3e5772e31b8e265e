// crossws on workerd (its Cloudflare adapter, without Durable Objects).
import crossws from "crossws/adapters/cloudflare";
import { echoHooks } from "./crossws-hooks.ts";

const ws = crossws({ hooks: echoHooks });

export default {
  fetch(request: Request, env: unknown, context: ExecutionContext): Promise<Response> | Response {
    if (new URL(request.url).pathname !== "/websocketserver" || request.headers.get("upgrade") !== "websocket") {
      return new Response("not found", { status: 404 });
    }
    return ws.handleUpgrade(request, env, context);
  },
};
