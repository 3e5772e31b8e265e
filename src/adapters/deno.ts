/**
 * Deno adapter: `Deno.serve` for HTTP, `Deno.upgradeWebSocket` for WebSockets.
 * @module
 */
import type { Context } from "hono";
import { CloseCode } from "../core/constants.ts";
import type { Connection } from "../core/connection.ts";
import { type Backplane, PubSub } from "../core/pubsub.ts";
import { ConnectionRegistry } from "../core/registry.ts";
import { createShutdown, type Shutdown } from "../core/shutdown.ts";
import { RUNTIME, type Runtime } from "../core/websocket.ts";

// --- types ---

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Default 8000. `0` picks a free port. */
  port?: number;
  /** Default `"0.0.0.0"`. */
  hostname?: string;
  /** Called once the server listens. */
  onListen?: (address: { hostname: string; port: number }) => void;
  /** Relays topics between servers, e.g. `redisBackplane()` from `edgesocket/redis`. Default: this process only. */
  backplane?: Backplane;
}

/** A Hono app, or anything with its `fetch`. */
export interface FetchApp {
  /** Answers one HTTP request; `env` carries the runtime to edgesocket. */
  fetch(request: Request, env: object): Response | Promise<Response>;
}

// --- adapter ---

function denoRuntime(backplane?: Backplane): Runtime {
  return { connections: new ConnectionRegistry(), pubsub: new PubSub(undefined, backplane), upgrade };
}

function upgrade(c: Context, connection: Connection): Response {
  // Deno's own `protocol` option rejects lists written without spaces ("a,b"), so the header is set here.
  const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
    idleTimeout: connection.limits.idleTimeout,
  });
  if (connection.protocol) response.headers.set("sec-websocket-protocol", connection.protocol);
  const peer = socket as Peer;
  peer[CONNECTION] = connection;
  peer.binaryType = "arraybuffer";
  peer.onopen = peerOnOpen;
  peer.onmessage = peerOnMessage;
  peer.onclose = peerOnClose;
  return response;
}

/**
 * Serves `app` over HTTP and WebSocket with `Deno.serve`. The returned server's `shutdown()` is
 * edgesocket's: it runs Deno's own (stop accepting), closes every socket with 1001 and waits for
 * each `onClose`.
 */
export function serve(app: FetchApp, options: ServeOptions = {}): Deno.HttpServer & Shutdown {
  const runtime = denoRuntime(options.backplane);
  const env = { [RUNTIME]: runtime };
  const server = Deno.serve(
    { port: options.port ?? 8000, hostname: options.hostname ?? "0.0.0.0", onListen: options.onListen },
    (request) => app.fetch(request, env),
  );
  const stopAccepting = server.shutdown.bind(server);
  return Object.assign(server, { shutdown: createShutdown(runtime.connections, stopAccepting) });
}

// --- peer ---

const CONNECTION = Symbol("edgesocket.connection");

interface Peer extends WebSocket {
  [CONNECTION]: Connection;
}

function peerOnOpen(this: WebSocket): void {
  (this as Peer)[CONNECTION].open(this);
}

function peerOnMessage(this: WebSocket, event: MessageEvent): void {
  (this as Peer)[CONNECTION].receive(event.data);
}

function peerOnClose(this: WebSocket, event: CloseEvent): void {
  // Deno reports a dropped TCP connection as code 0.
  (this as Peer)[CONNECTION].closed(event.code || CloseCode.ABNORMAL, event.reason);
}
