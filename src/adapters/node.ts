/**
 * Node adapter: Hono's HTTP server from `@hono/node-server`, WebSockets from `ws`; both are optional peer
 * dependencies of edgesocket, installed by Node users only (`npm install ws @hono/node-server`).
 * @module
 */
import type { IncomingMessage, Server } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket, WebSocketServer as WsServer } from "ws";
import type { SocketEvents, Transport } from "../core/connection.ts";
import type { SendData } from "../core/message.ts";
import type { Limits } from "../core/options.ts";
import type { Backplane } from "../core/pubsub.ts";
import type { SessionEngine } from "../core/session-engine.ts";
import { DEFAULT_LISTEN, type FetchApp, type ListenOptions, RUNTIME, Runtime } from "../core/runtime.ts";
import type { Shutdown, ShutdownOptions } from "../core/shutdown.ts";
import { RequestUrls, toRequest } from "./node-request.ts";

const { WebSocketServer, createAdaptorServer } = await importPeers();

/** The Node adapter's peer dependencies, or an error that says which packages to install. */
async function importPeers() {
  try {
    const [ws, nodeServer] = await Promise.all([import("ws"), import("@hono/node-server")]);
    return { WebSocketServer: ws.WebSocketServer, createAdaptorServer: nodeServer.createAdaptorServer };
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new Error("edgesocket/node needs ws and @hono/node-server: npm install ws @hono/node-server", {
      cause: error,
    });
  }
}

// --- types ---

/** Options of {@link serve}. */
export type ServeOptions = ListenOptions;

export type { FetchApp, ListenOptions };

/** The `env` of an upgrade request: what the runtime's `upgrade` hands to `ws`. A class, so that every one has one shape. */
class UpgradeEnv {
  readonly [RUNTIME]: Runtime;
  upgraded = false;
  constructor(runtime: Runtime, readonly incoming: IncomingMessage, readonly socket: Duplex, readonly head: Buffer) {
    this[RUNTIME] = runtime;
  }
}

// --- adapter ---

/**
 * Serves `app` over HTTP and WebSocket on Node; returns the listening `http.Server` with
 * `shutdown()` (stop accepting, close every socket with 1001, wait for each `onClose`).
 */
export function serve(app: FetchApp, options: ServeOptions = {}): Server & Shutdown {
  const runtime = nodeRuntime(options.backplane, options.sessions);
  // Every request's env carries the runtime, as on the other runtimes (e.g. to read the open connections).
  const fetch = (request: Request, env: Record<PropertyKey, unknown>) => {
    env[RUNTIME] = runtime;
    return app.fetch(request, env);
  };
  const server = createAdaptorServer({ fetch }) as Server;
  const stopAccepting = () => new Promise((done) => server.close(done));
  const shutdown = (shutdownOptions?: ShutdownOptions) => runtime.shutdown(stopAccepting, shutdownOptions);
  const urls = new RequestUrls();
  server.on("upgrade", (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", ignore);
    const env = new UpgradeEnv(runtime, incoming, socket, head);
    try {
      const response = app.fetch(toRequest(incoming, urls), env);
      // Hono answers a route without async middleware synchronously: no promise to wait for then.
      if (response instanceof Response) answerUnlessUpgraded(env, response);
      else Promise.resolve(response).then((r) => answerUnlessUpgraded(env, r), failUpgrade(socket));
    } catch (error) {
      failUpgrade(socket)(error);
    }
  });
  server.listen(options.port ?? DEFAULT_LISTEN.port, options.hostname ?? DEFAULT_LISTEN.hostname);
  return Object.assign(server, { shutdown });
}

/** Writes the app's answer to a request it did not upgrade (a refusal, or any other response). */
function answerUnlessUpgraded(env: UpgradeEnv, response: Response): void {
  if (!env.upgraded) writeResponse(env.socket, response).catch(failUpgrade(env.socket));
}

function failUpgrade(socket: Duplex): (error: unknown) => void {
  return (error) => {
    console.error("edgesocket: upgrade failed:", error);
    socket.destroy();
  };
}

function nodeRuntime(backplane?: Backplane, sessions?: SessionEngine): Runtime {
  const servers = new Map<string, WsServer>();
  return new Runtime({
    backplane,
    sessions,
    upgrade(c, events) {
      const env = c.env as UpgradeEnv;
      env.upgraded = true;
      const wss = serverFor(servers, events.limits);
      env.incoming[PROTOCOL] = events.protocol;
      wss.handleUpgrade(env.incoming, env.socket, env.head, (ws) => attach(ws, env.socket, events));
      return new Response(null);
    },
  });
}

/** One `ws` server per distinct message limit, since `maxPayload` is a server option. */
function serverFor(servers: Map<string, WsServer>, limits: Limits): WsServer {
  const key = String(limits.maxMessageSize);
  let wss = servers.get(key);
  if (!wss) {
    wss = new WebSocketServer({
      noServer: true,
      // The core's registry tracks open connections; ws's own client set would only cost memory.
      clientTracking: false,
      maxPayload: limits.maxMessageSize,
      perMessageDeflate: false,
      handleProtocols: (_offered, incoming) => incoming[PROTOCOL] || false,
    });
    servers.set(key, wss);
  }
  return wss;
}

// --- peer ---

const CONNECTION = Symbol("edgesocket.connection");
const PROTOCOL = Symbol("edgesocket.protocol");

declare module "node:http" {
  interface IncomingMessage {
    [PROTOCOL]?: string;
  }
}

interface Peer extends WebSocket {
  [CONNECTION]: SocketEvents;
}

function attach(ws: WebSocket, socket: Duplex, events: SocketEvents): void {
  const peer = ws as Peer;
  peer[CONNECTION] = events;
  peer.on("message", peerOnMessage);
  peer.on("pong", peerOnPong);
  peer.on("close", peerOnClose);
  peer.on("error", ignore); // 'close' follows with the code ws chose (1002, 1007, 1009)
  events.open(new NodeTransport(ws, socket));
}

function peerOnMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const peer = this as Peer;
  const buffer = data as Buffer;
  peer[CONNECTION].receive(isBinary ? toArrayBuffer(buffer) : buffer.toString());
}

function peerOnPong(this: WebSocket): void {
  (this as Peer)[CONNECTION].pong();
}

function peerOnClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as Peer)[CONNECTION].closed(code, reason.toString());
}

/**
 * `ws`'s socket as the core's transport, with what it sends in one turn of the event loop written together. `ws`
 * writes each message to the TCP socket at once, a system call each. Here the turn's first message is written at once
 * too (a lone reply waits for nothing) and corks the socket; the turn's other messages wait in the cork and leave
 * together when the turn ends. So the replies to a batch of messages that arrived in one read take two system calls
 * instead of one each, as uWS batches on Bun (measured: docs/performance.md, "Node: a write per turn").
 */
class NodeTransport implements Transport {
  readonly #ws: WebSocket;
  readonly #socket: Duplex;
  /** The socket's queued length when this turn's batch began; -1 while no batch is open. */
  #batchStart = -1;

  constructor(ws: WebSocket, socket: Duplex) {
    this.#ws = ws;
    this.#socket = socket;
  }

  send(data: SendData): void {
    this.#ws.send(data);
    if (this.#batchStart < 0) this.#cork();
    // Past the limit the batch is written now, so what bufferedAmount leaves out stays small: send still turns
    // false, and a slow consumer is still closed, for a handler that sends much in one turn.
    else if (this.#socket.writableLength - this.#batchStart >= BATCH_LIMIT) this.#uncork();
  }

  /** What waits for the network, less this turn's batch, which leaves when the turn ends. */
  get bufferedAmount(): number {
    const batch = this.#batchStart < 0 ? 0 : this.#socket.writableLength - this.#batchStart;
    return this.#ws.bufferedAmount - batch;
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  ping(): void {
    this.#ws.ping();
  }

  terminate(): void {
    this.#ws.terminate();
  }

  #cork(): void {
    this.#batchStart = this.#socket.writableLength;
    this.#socket.cork();
    process.nextTick(NodeTransport.#uncorkAtTurnEnd, this);
  }

  #uncork(): void {
    if (this.#batchStart < 0) return;
    this.#batchStart = -1;
    this.#socket.uncork();
  }

  static #uncorkAtTurnEnd(transport: NodeTransport): void {
    transport.#uncork();
  }
}

/**
 * The length of one turn's batch past which it is written at once (uWS's cork buffer is 16 KiB too). Counted as the
 * socket counts it, as `ws`'s `bufferedAmount` does: text in UTF-16 code units, binary in bytes.
 */
const BATCH_LIMIT = 16 * 1024;

// --- HTTP on the raw socket ---

/** Writes a refusal (or whatever the app answered instead of upgrading) and closes the socket. */
async function writeResponse(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, "connection: close", "", "");
  socket.end(Buffer.concat([Buffer.from(lines.join("\r\n")), body]));
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  const { buffer: backing, byteOffset, byteLength } = buffer;
  if (byteOffset === 0 && byteLength === backing.byteLength) return backing as ArrayBuffer;
  return backing.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
}

function ignore(): void {}
