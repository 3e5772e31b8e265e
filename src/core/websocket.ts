import type { Context, Env, Handler } from "hono";
import { Connection } from "./connection.ts";
import { CONNECTION, type WebSocketHandler } from "./handler.ts";
import { isListedOrigin, offeredSubprotocols, refuse, validateUpgradeRequest } from "./handshake.ts";
import { type Limits, resolveOptions, type WebSocketOptions } from "./options.ts";
import type { PubSub } from "./pubsub.ts";
import type { ConnectionRegistry } from "./registry.ts";
import { isShuttingDown } from "./shutdown.ts";

/**
 * What a runtime adapter gives the core: the one step that differs per runtime.
 * `upgrade` hands the request to the runtime and wires the live socket to `connection`.
 */
export interface Runtime {
  /** The open connections of the server this runtime serves. */
  readonly connections: ConnectionRegistry;
  /** The server's topics: `subscribe` / `publish` in handlers, {@link publish} from routes. */
  readonly pubsub?: PubSub;
  /** Hands the upgrade request to the runtime, wires its socket to `connection` and returns the response to send. */
  upgrade(c: Context, connection: Connection): Response | Promise<Response>;
}

/** The key under which an adapter puts its {@link Runtime} into Hono's `c.env`. */
export const RUNTIME: unique symbol = Symbol.for("edgesocket.runtime");

/** A `c.env` that carries a runtime. */
export interface RuntimeEnv {
  /** The adapter's runtime; absent when the app is not served by an edgesocket adapter. */
  [RUNTIME]?: Runtime;
}

/** A handler class with a no-argument constructor. */
// deno-lint-ignore no-explicit-any -- Hono's own default for an app's `Env`
export type HandlerClass<E extends Env = any> = new () => WebSocketHandler<E>;

/**
 * A Hono handler that upgrades requests to WebSockets served by `Handler`, one instance per connection.
 * The handshake is checked here, the same on every runtime, before the runtime sees it.
 *
 * @example
 * ```ts
 * app.all("/websocketserver", websocket(MyWebSocketServer, { maxMessageSize: 64 * 1024 }));
 * ```
 */
// deno-lint-ignore no-explicit-any -- Hono's own default for an app's `Env`
export function websocket<E extends Env = any>(Handler: HandlerClass<E>, options?: WebSocketOptions): Handler<E> {
  const limits = resolveOptions(options);
  return (c) => upgrade(c as Context, Handler, limits);
}

function upgrade(c: Context, Handler: HandlerClass, limits: Limits): Response | Promise<Response> {
  const invalid = validateUpgradeRequest(c.req.raw);
  if (invalid) return invalid;
  const runtime = (c.env as RuntimeEnv | undefined)?.[RUNTIME];
  if (!runtime) {
    throw new Error(
      "edgesocket: no runtime adapter; serve the app with the serve() or worker() of an edgesocket adapter",
    );
  }
  const unavailable = refuseWhenUnavailable(runtime.connections, limits);
  if (unavailable) return unavailable;
  const handler = new Handler();
  // The connection exists before the hooks run so that they can read `this.context`.
  const connection = (handler[CONNECTION] = new Connection(handler, limits, c, runtime.connections));
  connection.pubsub = runtime.pubsub;
  try {
    if (!isOriginAllowed(handler, c.req.header("origin"), limits)) {
      return refuse(403, "origin not allowed");
    }
    connection.protocol = chooseSubprotocol(handler, c.req.header("sec-websocket-protocol") ?? null) ?? "";
  } catch (error) {
    handler.onError(error);
    return refuse(500, "internal error");
  }
  return runtime.upgrade(c, connection);
}

/** 503 while the server shuts down or has `maxConnections` open. */
function refuseWhenUnavailable(connections: ConnectionRegistry, limits: Limits): Response | undefined {
  if (isShuttingDown(connections)) return refuse(503, "server shutting down");
  if (limits.maxConnections > 0 && connections.size >= limits.maxConnections) {
    return refuse(503, "too many connections");
  }
  return undefined;
}

function isOriginAllowed(handler: WebSocketHandler, origin: string | undefined, limits: Limits): boolean {
  if (origin === undefined) return true;
  return isListedOrigin(origin, limits.allowedOrigins) || handler.checkOrigin(origin);
}

function chooseSubprotocol(handler: WebSocketHandler, header: string | null): string | null {
  const offered = offeredSubprotocols(header);
  if (offered.length === 0) return null;
  const chosen = handler.selectSubprotocol(offered);
  if (chosen !== null && !offered.includes(chosen)) {
    throw new Error(`selectSubprotocol returned "${chosen}", which the client did not offer`);
  }
  return chosen;
}
