/**
 * edgesocket/testing: drive a handler class in memory, with no server and no runtime.
 *
 * {@link connect} sends a real upgrade request through `app.fetch`, so routing, middleware,
 * the handshake checks and the connection lifecycle are edgesocket's own code; only the socket
 * is replaced by an in-memory one. Each `connect` call gets a server of its own; clients that must
 * share rooms connect through one {@link testServer}.
 *
 * @example
 * ```ts
 * const client = await connect(Echo);
 * client.send("hi");
 * expect(await client.nextMessage()).toBe("hi");
 * await client.close();
 * ```
 * @module
 */
import { Hono } from "hono";
import type { Connection, Transport } from "./core/connection.ts";
import { CloseCode } from "./core/constants.ts";
import { WebSocketClosedError } from "./core/errors.ts";
import type { WebSocketHandler } from "./core/handler.ts";
import type { Message, SendData } from "./core/message.ts";
import type { WebSocketOptions } from "./core/options.ts";
import type { Backplane } from "./core/pubsub.ts";
import { websocket } from "./core/route.ts";
import { type FetchApp, RUNTIME, Runtime } from "./core/runtime.ts";

// --- types ---

export type { FetchApp };

/** How {@link connect} builds the upgrade request. */
export interface ConnectOptions {
  /**
   * The request's path, default `"/"`. An absolute URL (`"https://example.com/ws"`) also works;
   * the `Host` header is taken from it (default `localhost`).
   */
  path?: string;
  /** Extra request headers; they replace the handshake's own, so a test can break the handshake on purpose. */
  headers?: Record<string, string>;
  /** The `Origin` header, as a browser sends it. Omitted by default (a non-browser client). */
  origin?: string;
  /** The subprotocols offered in `Sec-WebSocket-Protocol`, in order of preference. */
  protocols?: readonly string[];
  /** Bindings for `c.env` (as a Worker's), besides the in-memory runtime. */
  env?: object;
}

/** Options of {@link connect} when it mounts a handler class on a fresh Hono app. */
export interface MountOptions extends ConnectOptions {
  /** The route pattern the handler is mounted at, e.g. `"/room/:id"`. Default: `path`. */
  route?: string;
  /** The options given to `websocket(Handler, options)`. */
  options?: WebSocketOptions;
}

/** How a connection closed: the code and reason the handler's `onClose` received. */
export interface CloseInfo {
  /** The close code, e.g. 1000. */
  code: number;
  /** The close reason, `""` if none. */
  reason: string;
}

/** The client side of an in-memory connection. */
export interface TestClient<H extends WebSocketHandler = WebSocketHandler> {
  /** The handler instance serving this connection. */
  readonly handler: H;
  /** The subprotocol the handler chose, or `""`. */
  readonly protocol: string;
  /** Every message the handler has sent so far, in order (binary as `ArrayBuffer` copies). */
  readonly messages: readonly Message[];
  /**
   * Resolves once the connection has closed, whoever closed it, and the handler's `onClose`
   * has been called (an async `onClose` may still be running). Never rejects.
   */
  readonly closed: Promise<CloseInfo>;
  /**
   * Sends a message to the handler, delivered synchronously as one runtime event:
   * text as a `string`, binary as a fresh `ArrayBuffer` copy.
   * Throws {@link WebSocketClosedError} once the connection has closed.
   */
  send(data: SendData): void;
  /**
   * The next message the handler sent that this method has not returned yet.
   * Rejects when none comes within `timeout` ms (default 1000) or the connection closes first.
   */
  nextMessage(options?: { timeout?: number }): Promise<Message>;
  /** Closes from the client's side (default 1000); resolves as {@link closed} does. */
  close(code?: number, reason?: string): Promise<CloseInfo>;
  /** Drops the connection without a closing handshake, like a TCP reset: the handler sees 1006. */
  drop(): void;
}

/** {@link connect} rejects with this when the app answers the upgrade request without upgrading. */
export class HandshakeRefusedError extends Error {
  /** Always `"HandshakeRefusedError"`. */
  override name = "HandshakeRefusedError";
  /** Made by {@link connect} from the app's answer. */
  constructor(
    /** The app's answer, body unread. */
    readonly response: Response,
    /** The answer's body as text, e.g. `"origin not allowed"`. */
    readonly reason: string,
  ) {
    super(`handshake refused: ${response.status} ${reason}`);
  }

  /** The HTTP status of the refusal, e.g. 403. */
  get status(): number {
    return this.response.status;
  }
}

// --- server ---

/** Options of {@link testServer}. */
export interface TestServerOptions {
  /** Relays the server's topics to other servers, as `serve(app, { backplane })` does. */
  backplane?: Backplane;
}

/**
 * An in-memory server: the clients connected through the same one share its topics and its open
 * connections (what `maxConnections` counts), as the clients of one real server do.
 */
export interface TestServer {
  /** Connects to `Handler` mounted on a fresh Hono app; see the top-level {@link connect}. */
  connect<H extends WebSocketHandler>(Handler: new () => H, options?: MountOptions): Promise<TestClient<H>>;
  /** Connects to an app that already mounts `websocket(...)`; see the top-level {@link connect}. */
  connect<H extends WebSocketHandler = WebSocketHandler>(
    app: FetchApp,
    options?: ConnectOptions,
  ): Promise<TestClient<H>>;
  /** Publishes to this server's subscribers, as `publish(c, topic, data)` does from a route. */
  publish(topic: string, data: SendData): void;
  /** How many connections of this server are subscribed to `topic`. */
  subscribers(topic: string): number;
  /** How many connections are open now. */
  readonly openConnections: number;
}

/** Makes an in-memory server; `connect` through it to put clients in the same rooms. */
export function testServer(options: TestServerOptions = {}): TestServer {
  const upgrades = new Map<Request, Connection>();
  const runtime = new Runtime({
    backplane: options.backplane,
    upgrade(c, connection) {
      // The in-memory client never offers the resume protocol: every upgrade here is a plain Connection.
      upgrades.set(c.req.raw, connection as Connection);
      const headers = new Headers({ "x-edgesocket-testing": "upgraded" });
      if (connection.protocol) headers.set("sec-websocket-protocol", connection.protocol);
      return new Response(null, { status: 200, headers });
    },
  });
  return {
    connect: (target: (new () => WebSocketHandler) | FetchApp, connectOptions: MountOptions = {}) =>
      connectTo(runtime, upgrades, target, connectOptions),
    publish: (topic, data) => runtime.pubsub!.publish(topic, data),
    subscribers: (topic) => runtime.pubsub!.subscribers(topic),
    get openConnections() {
      return runtime.connections.size;
    },
  } as TestServer;
}

// --- connect ---

/**
 * Opens an in-memory connection on a server of its own: mounts `Handler` with
 * `websocket(Handler, options.options)` on a fresh Hono app at `options.route`, sends an upgrade
 * request to `options.path` through `app.fetch`, and resolves once the handler's `open` has been
 * called (messages sent before it settles wait, as on a real runtime). Rejects with
 * {@link HandshakeRefusedError} when the handshake is refused.
 *
 * The in-memory runtime answers an accepted upgrade with `200` (Node's `Response` cannot carry
 * `101`) and the header `x-edgesocket-testing: upgraded`; `open` runs after that answer is returned,
 * as on Deno and Bun. When the handler closes, the close is echoed back on a later microtask, so
 * `onClose` then runs as it would after a real closing handshake.
 */
export function connect<H extends WebSocketHandler>(
  Handler: new () => H,
  options?: MountOptions,
): Promise<TestClient<H>>;
/**
 * Opens an in-memory connection, on a server of its own, to an app that already mounts
 * `websocket(...)`, for instance your real app with its middleware: sends the upgrade request to
 * `options.path` through `app.fetch`.
 */
export function connect<H extends WebSocketHandler = WebSocketHandler>(
  app: FetchApp,
  options?: ConnectOptions,
): Promise<TestClient<H>>;
export function connect(
  target: (new () => WebSocketHandler) | FetchApp,
  options: MountOptions = {},
): Promise<TestClient> {
  return testServer().connect(target as FetchApp, options);
}

async function connectTo(
  runtime: Runtime,
  upgrades: Map<Request, Connection>,
  target: (new () => WebSocketHandler) | FetchApp,
  options: MountOptions,
): Promise<TestClient> {
  const path = options.path ?? "/";
  let app: FetchApp;
  if (typeof target === "function") {
    const hono = new Hono();
    hono.all(options.route ?? new URL(path, BASE).pathname, websocket(target, options.options));
    app = hono;
  } else {
    app = target;
  }
  const request = upgradeRequest(path, options);
  const response = await app.fetch(request, { ...options.env, [RUNTIME]: runtime });
  const accepted = upgrades.get(request);
  upgrades.delete(request);
  if (!accepted) {
    throw new HandshakeRefusedError(response, await response.clone().text());
  }
  const client = new MemoryClient(accepted);
  accepted.open(client.transport);
  return client;
}

const BASE = "http://localhost";

function upgradeRequest(path: string, options: ConnectOptions): Request {
  const url = new URL(path, BASE);
  const headers = new Headers({
    host: url.host,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": randomKey(),
    "sec-websocket-version": "13",
  });
  if (options.origin !== undefined) headers.set("origin", options.origin);
  if (options.protocols?.length) headers.set("sec-websocket-protocol", options.protocols.join(", "));
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  return new Request(url, { method: "GET", headers });
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

// --- peer ---

interface Waiter {
  resolve(message: Message): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

class MemoryClient implements TestClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<CloseInfo>;
  /** The socket the connection drives: what it sends lands in `messages`, its close is echoed back. */
  readonly transport: Transport;

  #read = 0;
  #waiters: Waiter[] = [];
  #closeInfo: CloseInfo | undefined;
  #resolveClosed!: (info: CloseInfo) => void;

  constructor(readonly connection: Connection) {
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    connection.onceClosed(() => this.#resolveClosed(this.#closeInfo!));
    let closing = false;
    this.transport = {
      send: (data) => this.#receive(typeof data === "string" ? data : copy(data)),
      close: (code = CloseCode.NO_STATUS, reason = "") => {
        if (closing) return;
        closing = true;
        queueMicrotask(() => this.#report(code, reason));
      },
    };
  }

  get handler(): WebSocketHandler {
    return this.connection.handler;
  }

  get protocol(): string {
    return this.connection.protocol;
  }

  send(data: SendData): void {
    if (this.#closeInfo) throw new WebSocketClosedError("the in-memory client is closed");
    this.connection.receive(typeof data === "string" ? data : copy(data));
  }

  nextMessage({ timeout = 1000 }: { timeout?: number } = {}): Promise<Message> {
    if (this.#read < this.messages.length) return Promise.resolve(this.messages[this.#read++]!);
    if (this.#closeInfo) return Promise.reject(closedError(this.#closeInfo));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new Error(`edgesocket/testing: no message from the handler within ${timeout} ms`));
        }, timeout),
      };
      this.#waiters.push(waiter);
    });
  }

  close(code: number = CloseCode.NORMAL, reason = ""): Promise<CloseInfo> {
    this.#report(code, reason);
    return this.closed;
  }

  drop(): void {
    this.#report(CloseCode.ABNORMAL, "");
  }

  #receive(message: Message): void {
    this.messages.push(message);
    const waiter = this.#waiters.shift();
    if (!waiter) return;
    this.#read++;
    clearTimeout(waiter.timer);
    waiter.resolve(message);
  }

  /** The runtime reports the socket closed; only the first report counts, as on a real socket. */
  #report(code: number, reason: string): void {
    if (this.#closeInfo) return;
    this.#closeInfo = { code, reason };
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(closedError(this.#closeInfo));
    }
    this.connection.closed(code, reason);
  }
}

function copy(data: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  const bytes = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  return bytes.slice().buffer;
}

function closedError({ code, reason }: CloseInfo): WebSocketClosedError {
  const why = reason ? `${code} ${reason}` : `${code}`;
  return new WebSocketClosedError(`the connection closed (${why}) before another message`);
}
