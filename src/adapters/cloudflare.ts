/**
 * Cloudflare Workers adapter: a `WebSocketPair` per connection, accepted in the worker itself.
 * workerd has no open event, so `open` runs right after `accept()`.
 * @module
 */
import type { Context } from "hono";
import type { SocketEvents } from "../core/connection.ts";
import { type FetchApp, RUNTIME, Runtime } from "../core/runtime.ts";
import { socketPair, switchingProtocols } from "./cloudflare-pair.ts";
import { refuseSessionsInWorker } from "./cloudflare-routes.ts";
import { forwardEvents } from "./whatwg-socket.ts";

// --- types ---

export type { FetchApp };

/** The module worker returned by {@link worker}. */
export interface Worker {
  /** The worker's fetch handler: `env` is the Worker's bindings, `ctx` its execution context. */
  fetch(request: Request, env: object, ctx: unknown): Response | Promise<Response>;
}

// --- adapter ---

function upgrade(_c: Context, events: SocketEvents): Response {
  const [client, server] = socketPair();
  forwardEvents(server, events);
  (server as WebSocket & { accept(): void }).accept();
  events.open(server);
  return switchingProtocols(client, events);
}

/**
 * Wraps `app` as a module worker: `export default worker(app)`. Bindings stay reachable in `c.env`.
 * @throws Error when a route of `app` keeps sessions (`resume`) and no `toDurableObject()` hands it to a Durable
 * Object: a plain Worker keeps nothing between requests.
 */
export function worker(app: FetchApp): Worker {
  refuseSessionsInWorker(app);
  // No pub/sub: workerd refuses to send on a socket of another request. Rooms live in a Durable Object.
  const runtime = new Runtime({ upgrade, topics: false, sessions: false });
  return {
    fetch(request, bindings, ctx) {
      const env = Object.create(bindings as object, { [RUNTIME]: { value: runtime } });
      return app.fetch(request, env, ctx);
    },
  };
}
