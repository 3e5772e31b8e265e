import type { Context, Env, Handler } from "hono";
import { Connection } from "./connection.ts";
import type { WebSocketHandler } from "./handler.ts";
import { isListedOrigin, offeredSubprotocols, refuse, validateUpgradeRequest } from "./handshake.ts";
import { DEFAULT_LIMITS, type Limits, resolveOptions, type WebSocketOptions } from "./options.ts";
import { type Runtime, runtimeOf } from "./runtime.ts";
import { PLAIN_PROTOCOL, RESUME_PROTOCOL } from "../protocol/resume.ts";
import { SessionLink, withRoomForFraming } from "./session.ts";

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
  const socketLimits = limits.resume ? withRoomForFraming(limits) : limits;
  const route: Handler<E> = (c) => upgrade(c as Context, Handler, limits, socketLimits);
  return Object.assign(route, { [ROUTE_LIMITS]: socketLimits });
}

/**
 * Where a route made by {@link websocket} keeps the limits of its sockets (a resume route's leave room for the
 * protocol's framing), for {@link largestMessageSize} and {@link resumableRoutes}.
 */
const ROUTE_LIMITS = Symbol("edgesocket.routeLimits");

/** The paths of an app's routes that keep sessions (`resume`): a runtime that cannot keep them refuses them at setup. */
export function resumableRoutes(app: object): string[] {
  return routeLimitsOf(app).filter(({ limits }) => limits.resume).map(({ path }) => path);
}

function appRoutes(app: object): readonly { path: string; handler: unknown }[] {
  return (app as { routes?: readonly { path: string; handler: unknown }[] }).routes ?? [];
}

function routeLimitsOf(app: object): { path: string; limits: Limits }[] {
  return appRoutes(app).flatMap(({ path, handler }) => {
    const limits = (handler as { [ROUTE_LIMITS]?: Limits } | undefined)?.[ROUTE_LIMITS];
    return limits ? [{ path, limits }] : [];
  });
}

/**
 * The largest `maxMessageSize` of the `websocket()` routes a Hono app has now (read from its `routes`), and at
 * least the default: what a runtime whose message limit is server-wide (Bun) must allow at start.
 */
export function largestMessageSize(app: object): number {
  let largest = DEFAULT_LIMITS.maxMessageSize;
  for (const { limits } of routeLimitsOf(app)) largest = Math.max(largest, limits.maxMessageSize);
  return largest;
}

/** `socketLimits`: the limits of the route's session sockets (see `SessionLink`). */
function upgrade(
  c: Context,
  Handler: HandlerClass,
  limits: Limits,
  socketLimits: Limits,
): Response | Promise<Response> {
  const invalid = validateUpgradeRequest(c.req.raw);
  if (invalid) return invalid;
  const runtime = runtimeOf(c);
  if (!runtime) {
    throw new Error(
      "edgesocket: no runtime adapter; serve the app with the serve() or worker() of an edgesocket adapter",
    );
  }
  const offered = offeredSubprotocols(c.req.header("sec-websocket-protocol") ?? null);
  // A client that offers the resume protocol (EdgeSocket) gets a session; any other, a plain connection.
  const resumable = limits.resume !== undefined && runtime.sessions !== undefined && offered.includes(RESUME_PROTOCOL);
  // A hello that resumes a session adds no connection: maxConnections is checked when a new session would start.
  const unavailable = refuseWhenUnavailable(runtime, resumable ? 0 : limits.maxConnections);
  if (unavailable) return unavailable;
  const handler = new Handler();
  // The connection exists before the hooks run so that they can read `this.context`.
  const connection = new Connection(handler, limits, c, runtime);
  try {
    if (!isOriginAllowed(handler, c.req.header("origin"), limits)) {
      return refuse(403, "origin not allowed");
    }
    if (resumable) return runtime.upgrade(c, new SessionLink(connection, c.req.routePath, socketLimits));
    const chosen = chooseSubprotocol(handler, withoutOwnProtocols(offered));
    // An EdgeSocket's offer that this route does not resume: answered, so that the client's handshake succeeds.
    connection.selectProtocol(chosen ?? (offered.includes(PLAIN_PROTOCOL) ? PLAIN_PROTOCOL : ""));
  } catch (error) {
    handler.onError(error);
    return refuse(500, "internal error");
  }
  return runtime.upgrade(c, connection);
}

/** 503 while the server shuts down or has `maxConnections` open (0: no limit). */
function refuseWhenUnavailable(runtime: Runtime, maxConnections: number): Response | undefined {
  if (runtime.shuttingDown) return refuse(503, "server shutting down");
  if (maxConnections > 0 && runtime.connections.size >= maxConnections) {
    return refuse(503, "too many connections");
  }
  return undefined;
}

function isOriginAllowed(handler: WebSocketHandler, origin: string | undefined, limits: Limits): boolean {
  if (origin === undefined) return true;
  return isListedOrigin(origin, limits.allowedOrigins) || handler.checkOrigin(origin);
}

/** The subprotocols the client offered for the handler to choose from: all but edgesocket's own. */
function withoutOwnProtocols(offered: string[]): string[] {
  if (offered.length === 0) return offered;
  return offered.filter((protocol) => protocol !== RESUME_PROTOCOL && protocol !== PLAIN_PROTOCOL);
}

function chooseSubprotocol(handler: WebSocketHandler, offered: string[]): string | null {
  if (offered.length === 0) return null;
  const chosen = handler.selectSubprotocol(offered);
  if (chosen !== null && !offered.includes(chosen)) {
    throw new Error(`selectSubprotocol returned "${chosen}", which the client did not offer`);
  }
  return chosen;
}
