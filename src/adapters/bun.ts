/**
 * Bun adapter: one `Bun.serve` with one `websocket` handler object shared by every connection.
 * @module
 */
import type { Server, ServerWebSocket, WebSocketHandler as BunWebSocketHandler } from "bun";
import { ReadyState } from "../core/constants.ts";
import type { Connection, SocketEvents, Transport } from "../core/connection.ts";
import type { SendData } from "../core/message.ts";
import type { TopicEngine } from "../core/pubsub.ts";
import { largestMessageSize } from "../core/route.ts";
import { DEFAULT_LISTEN, type FetchApp, type ListenOptions, RUNTIME, Runtime } from "../core/runtime.ts";
import type { Shutdown, ShutdownOptions } from "../core/shutdown.ts";

// --- types ---

/** Options of {@link serve}. */
export interface ServeOptions extends ListenOptions {
  /**
   * Bun's message limit is server-wide (`maxPayloadLength`); each route's own limit still holds below it.
   * Default: the largest `maxMessageSize` of the app's routes when `serve()` runs, raised (by Bun's
   * `server.reload`) the first time a route added later with a larger limit upgrades, so that none is cut short.
   */
  maxMessageSize?: number;
  /**
   * Lets several processes listen on the same port (`SO_REUSEPORT`, Linux): one process per core,
   * topics carried between them by a backplane. Default `false`.
   */
  reusePort?: boolean;
}

export type { FetchApp, ListenOptions };

type Peer = ServerWebSocket<SocketEvents>;

// --- adapter ---

/**
 * Serves `app` over HTTP and WebSocket with `Bun.serve`; returns Bun's server with `shutdown()`
 * (stop accepting, close every socket with 1001, wait for each `onClose`).
 */
export function serve(app: FetchApp, options: ServeOptions = {}): Server<SocketEvents> & Shutdown {
  const payloadLimit = new PayloadLimit(options.maxMessageSize, largestMessageSize(app));
  const runtime = new Runtime({
    upgrade(c, events) {
      payloadLimit.fit(events.limits.maxMessageSize, server, bunOptions);
      // An empty header stops Bun from choosing the first offered subprotocol by itself.
      const headers = { "sec-websocket-protocol": events.protocol };
      if (server.upgrade(c.req.raw, { data: events, headers })) return new Response(null);
      return new Response("WebSocket upgrade failed", { status: 400 });
    },
    topics: nativeTopics(() => server),
    backplane: options.backplane,
    sessions: options.sessions,
  });
  const env = { [RUNTIME]: runtime };
  const bunOptions = (maxPayloadLength: number) => ({
    fetch: (request: Request) => app.fetch(request, env),
    websocket: peerHandlers(maxPayloadLength),
  });
  const server: Server<SocketEvents> = Bun.serve<SocketEvents>({
    port: options.port ?? DEFAULT_LISTEN.port,
    hostname: options.hostname ?? DEFAULT_LISTEN.hostname,
    reusePort: options.reusePort,
    ...bunOptions(payloadLimit.bytes),
  });
  const stopAccepting = () => server.stop();
  return Object.assign(server, {
    shutdown: (shutdownOptions?: ShutdownOptions) => runtime.shutdown(stopAccepting, shutdownOptions),
  });
}

/** The server-wide `maxPayloadLength` of one Bun server: fixed when given, else the largest route limit seen. */
class PayloadLimit {
  bytes: number;
  readonly #fixed: boolean;

  constructor(fixed: number | undefined, routesAtStart: number) {
    this.#fixed = fixed !== undefined;
    this.bytes = fixed ?? routesAtStart;
  }

  /** Raises the limit to `routeLimit` (Bun's `reload` applies it to open sockets too), unless it was given. */
  fit(
    routeLimit: number,
    server: Server<SocketEvents>,
    bunOptions: (maxPayloadLength: number) => Parameters<Server<SocketEvents>["reload"]>[0],
  ): void {
    if (this.#fixed || routeLimit <= this.bytes) return;
    this.bytes = routeLimit;
    server.reload(bunOptions(routeLimit));
  }
}

/** Bun's own topics: `ws.subscribe` and one native publish, no loop in JavaScript. */
function nativeTopics(server: () => Server<SocketEvents>): TopicEngine {
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
      // A resumable session is not in Bun's topics (the core delivers to it), so it needs no leaving out here.
      if (except?.readyState === ReadyState.OPEN && !except.transport?.replays) peerOf(except).publish(topic, payload);
      else server().publish(topic, payload);
    },
    subscribers: (topic) => server().subscriberCount(topic),
  };
}

// --- peer ---

function peerOf(connection: Connection): Peer {
  return (connection.transport as BunTransport).peer;
}

function peerHandlers(maxPayloadLength: number): BunWebSocketHandler<SocketEvents> {
  return {
    maxPayloadLength,
    // The core's heartbeat pings per route (`idleTimeout`), so Bun's own server-wide one is off.
    idleTimeout: 0,
    sendPings: false,
    // Bun's `backpressureLimit` (16 MiB) stays; past it Bun drops a message and the core closes with 1008.
    closeOnBackpressureLimit: false,
    perMessageDeflate: false,
    open: peerOnOpen,
    message: peerOnMessage,
    close: peerOnClose,
    drain: peerOnDrain,
    pong: peerOnPong,
  };
}

// `peer.data` is a native getter; the connection is also kept in a plain property, which the
// engine reads inline on every message.
const CONNECTION = Symbol("edgesocket.connection");

interface LinkedPeer extends Peer {
  [CONNECTION]: SocketEvents;
}

function peerOnOpen(peer: Peer): void {
  peer.binaryType = "arraybuffer";
  const events = ((peer as LinkedPeer)[CONNECTION] = peer.data);
  events.open(new BunTransport(peer));
}

function peerOnMessage(peer: Peer, message: string | ArrayBuffer | Uint8Array): void {
  (peer as LinkedPeer)[CONNECTION].receive(message as string | ArrayBuffer);
}

function peerOnClose(peer: Peer, code: number, reason: string): void {
  peer.data.closed(code, reason);
}

function peerOnDrain(peer: Peer): void {
  (peer as LinkedPeer)[CONNECTION].writable();
}

function peerOnPong(peer: Peer): void {
  (peer as LinkedPeer)[CONNECTION].pong();
}

/**
 * Bun's socket as the core's transport: Bun reports its buffer with `getBufferedAmount()` and a
 * dropped message (buffer over Bun's `backpressureLimit`) as `send() === 0`.
 */
class BunTransport implements Transport {
  #dropped = false;
  /** What the last `send` returned: bytes written at once, -1 if buffered, 0 if dropped (or empty). */
  #lastSend = 0;

  constructor(readonly peer: Peer) {}

  send(data: SendData): void {
    // `sendText` and `sendBinary` skip the type dispatch of Bun's `send`: the type is known here. Bun's types take
    // only ArrayBuffer-backed views; at run time `sendBinary` takes every view SendData allows.
    this.#lastSend = typeof data === "string" ? this.peer.sendText(data) : this.peer.sendBinary(data as ArrayBuffer);
    // An empty message also returns 0 without being dropped.
    if (this.#lastSend === 0 && !isEmpty(data)) this.#dropped = true;
  }

  /** Asks Bun only when the last send had to be buffered: otherwise nothing waits. */
  get bufferedAmount(): number {
    if (this.#dropped) return Number.POSITIVE_INFINITY;
    return this.#lastSend === -1 ? this.peer.getBufferedAmount() : 0;
  }

  close(code?: number, reason?: string): void {
    this.peer.close(code, reason);
  }

  ping(): void {
    this.peer.ping();
  }

  terminate(): void {
    this.peer.terminate();
  }
}

function isEmpty(data: SendData): boolean {
  return typeof data === "string" ? data.length === 0 : data.byteLength === 0;
}
