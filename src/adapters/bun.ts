/**
 * Bun adapter: one `Bun.serve` with one `websocket` handler object shared by every connection.
 * @module
 */
import type { Server, ServerWebSocket, WebSocketHandler as BunWebSocketHandler } from "bun";
import { ReadyState } from "../core/constants.ts";
import type { Connection, Transport } from "../core/connection.ts";
import type { SendData } from "../core/message.ts";
import { DEFAULT_LIMITS } from "../core/options.ts";
import { type Backplane, PubSub, type TopicEngine } from "../core/pubsub.ts";
import { ConnectionRegistry } from "../core/registry.ts";
import { RUNTIME, type Runtime } from "../core/websocket.ts";

// --- types ---

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Default 8000. `0` picks a free port. */
  port?: number;
  /** Default `"0.0.0.0"`. */
  hostname?: string;
  /**
   * Bun applies these two to the whole server; each route's own (smaller) limits still hold.
   * Defaults: the defaults of `websocket()`.
   */
  maxMessageSize?: number;
  /** Seconds a silent peer may stay connected; see `maxMessageSize` for the scope. */
  idleTimeout?: number;
  /** Relays topics between servers, e.g. `redisBackplane()` from `edgesocket/redis`. Default: this process only. */
  backplane?: Backplane;
}

/** A Hono app, or anything with its `fetch`. */
export interface FetchApp {
  /** Answers one HTTP request; `env` carries the runtime to edgesocket. */
  fetch(request: Request, env: object): Response | Promise<Response>;
}

type Peer = ServerWebSocket<Connection>;

// --- adapter ---

/** Serves `app` over HTTP and WebSocket with `Bun.serve`. */
export function serve(app: FetchApp, options: ServeOptions = {}): Server<Connection> {
  const env = { [RUNTIME]: bunRuntime(() => server, options.backplane) };
  const server: Server<Connection> = Bun.serve<Connection>({
    port: options.port ?? 8000,
    hostname: options.hostname ?? "0.0.0.0",
    fetch: (request) => app.fetch(request, env),
    websocket: peerHandlers(options),
  });
  return server;
}

function bunRuntime(server: () => Server<Connection>, backplane?: Backplane): Runtime {
  return {
    connections: new ConnectionRegistry(),
    pubsub: new PubSub(nativeTopics(server), backplane),
    upgrade(c, connection) {
      // An empty header stops Bun from choosing the first offered subprotocol by itself.
      const headers = { "sec-websocket-protocol": connection.protocol };
      if (server().upgrade(c.req.raw, { data: connection, headers })) return new Response(null);
      return new Response("WebSocket upgrade failed", { status: 400 });
    },
  };
}

/** Bun's own topics: `ws.subscribe` and one native publish, no loop in JavaScript. */
function nativeTopics(server: () => Server<Connection>): TopicEngine {
  return {
    subscribe(connection, topic) {
      peerOf(connection).subscribe(topic);
    },
    unsubscribe(connection, topic) {
      // Bun has already dropped a closed socket from its topics.
      if (connection.readyState !== ReadyState.CLOSED) peerOf(connection).unsubscribe(topic);
    },
    publish(topic: string, data: SendData, except?: Connection) {
      // Bun's types take only ArrayBuffer-backed views; at run time it takes every view SendData allows.
      const payload = data as string | ArrayBuffer;
      // `ws.publish` leaves its own socket out (Bun's `publishToSelf` is off); a closed sender cannot publish.
      if (except && except.readyState === ReadyState.OPEN) peerOf(except).publish(topic, payload);
      else server().publish(topic, payload);
    },
    subscribers: (topic) => server().subscriberCount(topic),
  };
}

// --- peer ---

function peerOf(connection: Connection): Peer {
  return connection.transport as Peer;
}

function peerHandlers(options: ServeOptions): BunWebSocketHandler<Connection> {
  const idleTimeout = options.idleTimeout ?? DEFAULT_LIMITS.idleTimeout;
  return {
    maxPayloadLength: options.maxMessageSize ?? DEFAULT_LIMITS.maxMessageSize,
    // Bun pings after `idleTimeout` and closes after twice that; halve it so a dead peer goes within idleTimeout.
    idleTimeout: idleTimeout === 0 ? 0 : Math.max(1, Math.ceil(idleTimeout / 2)),
    sendPings: true,
    perMessageDeflate: false,
    open: peerOnOpen,
    message: peerOnMessage,
    close: peerOnClose,
  };
}

function peerOnOpen(peer: Peer): void {
  peer.binaryType = "arraybuffer";
  // Bun's types take only ArrayBuffer-backed views; at run time `send` takes every view SendData allows.
  peer.data.open(peer as Transport);
}

function peerOnMessage(peer: Peer, message: string | ArrayBuffer | Uint8Array): void {
  peer.data.receive(message as string | ArrayBuffer);
}

function peerOnClose(peer: Peer, code: number, reason: string): void {
  peer.data.closed(code, reason);
}
