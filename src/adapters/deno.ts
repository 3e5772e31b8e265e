/**
 * Deno adapter: `Deno.serve` for HTTP, `Deno.upgradeWebSocket` for WebSockets.
 * @module
 */
import type { Context } from "hono";
import type { SocketEvents } from "../core/connection.ts";
import { DEFAULT_LISTEN, type FetchApp, type ListenOptions, RUNTIME, Runtime } from "../core/runtime.ts";
import type { Shutdown, ShutdownOptions } from "../core/shutdown.ts";
import { forwardEvents, openOnOpenEvent } from "./whatwg-socket.ts";

// --- types ---

/** Options of {@link serve}. */
export interface ServeOptions extends ListenOptions {
  /** Called once the server listens. */
  onListen?: (address: { hostname: string; port: number }) => void;
  /**
   * Lets several processes listen on the same port (`SO_REUSEPORT`, Linux): one process per core,
   * topics carried between them by a backplane. Default `false`.
   */
  reusePort?: boolean;
}

export type { FetchApp, ListenOptions };

// --- adapter ---

function upgrade(c: Context, events: SocketEvents): Response {
  // Deno's own `protocol` option rejects lists written without spaces ("a,b"), so the header is set here.
  const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
    idleTimeout: events.limits.idleTimeout,
  });
  if (events.protocol) response.headers.set("sec-websocket-protocol", events.protocol);
  forwardEvents(socket, events);
  openOnOpenEvent(socket);
  return response;
}

/**
 * Serves `app` over HTTP and WebSocket with `Deno.serve`. The returned server's `shutdown()` is
 * edgesocket's: it runs Deno's own (stop accepting), closes every socket with 1001 and waits for
 * each `onClose`.
 */
export function serve(app: FetchApp, options: ServeOptions = {}): Deno.HttpServer & Shutdown {
  const runtime = new Runtime({ upgrade, backplane: options.backplane, sessions: options.sessions });
  const env = { [RUNTIME]: runtime };
  const server = Deno.serve(
    {
      port: options.port ?? DEFAULT_LISTEN.port,
      hostname: options.hostname ?? DEFAULT_LISTEN.hostname,
      onListen: options.onListen,
      reusePort: options.reusePort,
    },
    (request) => app.fetch(request, env),
  );
  const stopAccepting = server.shutdown.bind(server);
  return Object.assign(server, {
    shutdown: (shutdownOptions?: ShutdownOptions) => runtime.shutdown(stopAccepting, shutdownOptions),
  });
}
