/**
 * Cloudflare Durable Objects adapter: rooms that hold every socket of a room in one object, with
 * the WebSocket Hibernation API. The object serves the same Hono app; {@link toDurableObject}
 * sends a route's requests to the object named after the request (e.g. its `:room` param).
 *
 * While the object hibernates its handlers are gone and its sockets stay open; on the next
 * event each handler is rebuilt from its socket's attachment, so `state` and topics survive.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { CloseCode, ReadyState } from "../core/constants.ts";
import { Connection, type Transport } from "../core/connection.ts";
import type { SendData } from "../core/message.ts";
import { DEFAULT_LIMITS, type Limits, resolveOptions } from "../core/options.ts";
import type { TopicEngine } from "../core/pubsub.ts";
import { type HandlerClass, SERVED_ELSEWHERE } from "../core/route.ts";
import { socketPair, switchingProtocols } from "./cloudflare-pair.ts";
import { type FetchApp, RUNTIME, Runtime } from "../core/runtime.ts";

// --- types ---

export type { FetchApp };

/** Options of {@link durableObject}. */
export interface DurableObjectOptions {
  /** Every handler class the object's routes serve: a hibernated socket's handler is rebuilt from one of them. */
  handlers: readonly HandlerClass[];
  /**
   * A text message the object answers itself, without waking up, e.g. a client's heartbeat.
   * Default `{ request: "ping", response: "pong" }`; `null` for none.
   */
  autoResponse?: { request: string; response: string } | null;
}

/** The part of `DurableObjectState` this adapter uses. */
export interface DurableObjectState {
  /** Hands `ws` to the platform, which may hibernate the object while the socket stays open. */
  acceptWebSocket(ws: WebSocket, tags?: string[]): void;
  /** The sockets accepted with `tag` (all when omitted), including those from before hibernation. */
  getWebSockets(tag?: string): WebSocket[];
  /** A request/response pair the platform answers without waking the object. */
  setWebSocketAutoResponse(pair?: unknown): void;
}

/** A Durable Object class, as `durableObject()` returns it; export it from the worker under the binding's `class_name`. */
export interface DurableObjectClass {
  /** Called by the platform with the object's state and the worker's bindings. */
  new (ctx: DurableObjectState, env: object): {
    fetch(request: Request): Response | Promise<Response>;
    webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void;
    webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): void;
    webSocketError(ws: WebSocket, error: unknown): void;
  };
}

interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** What a socket's attachment holds: edgesocket's part, namespaced, and the handler's `state`. */
interface Attachment {
  __es: {
    handler: number;
    topics: string[];
    protocol: string;
    params: Record<string, string>;
    limits: Partial<RouteLimits>;
  };
  state: unknown;
}

interface WorkerdWebSocket extends WebSocket {
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

declare const WebSocketRequestResponsePair: { new (request: string, response: string): unknown };

/** Marks the env of an app served inside a Durable Object. */
const IN_DURABLE_OBJECT = Symbol.for("edgesocket.inDurableObject");
/** The tag of the sockets this adapter accepts; others in the same object are left alone. */
const TAG = "edgesocket";

// --- adapter ---

/**
 * Sends the request to the Durable Object named `name(c)` in the namespace bound as `binding`.
 * Inside that object, and on runtimes without the binding (Node, Deno, Bun), the route runs here.
 *
 * @example
 * ```ts
 * app.all("/chat/:room", toDurableObject("ROOMS", (c) => c.req.param("room")), websocket(Chat));
 * ```
 */
export function toDurableObject(binding: string, name: (c: Context) => string): MiddlewareHandler {
  const forward: MiddlewareHandler = async (c, next) => {
    const env = c.env as Record<string | symbol, unknown> | undefined;
    const namespace = env?.[binding] as DurableObjectNamespace | undefined;
    if (env?.[IN_DURABLE_OBJECT] || !namespace) return next();
    return namespace.get(namespace.idFromName(name(c))).fetch(c.req.raw);
  };
  return Object.assign(forward, { [SERVED_ELSEWHERE]: true });
}

/**
 * A Durable Object class that serves `app` with the Hibernation API: `export const Rooms = durableObject(app, { handlers: [Chat] })`,
 * and in `wrangler.toml` a `durable_objects` binding with `class_name = "Rooms"` and a migration.
 */
export function durableObject(app: FetchApp, options: DurableObjectOptions): DurableObjectClass {
  const autoResponse = options.autoResponse === undefined
    ? { request: "ping", response: "pong" }
    : options.autoResponse;
  return class EdgesocketDurableObject {
    readonly #rooms: DurableRooms;
    readonly #env: object;

    constructor(ctx: DurableObjectState, env: object) {
      this.#rooms = new DurableRooms(ctx, options.handlers);
      this.#env = Object.create(env, {
        [RUNTIME]: { value: this.#rooms.runtime },
        [IN_DURABLE_OBJECT]: { value: true },
      });
      if (autoResponse) {
        ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(autoResponse.request, autoResponse.response));
      }
    }

    fetch(request: Request): Response | Promise<Response> {
      // After hibernation only the sockets that had an event are rebuilt: count them all for maxConnections.
      if (request.headers.has("upgrade")) this.#rooms.restoreAll();
      return app.fetch(request, this.#env);
    }

    webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
      const connection = this.#rooms.connectionOf(ws);
      if (!connection) return;
      connection.receive(message);
      // An assignment to `state` saves it at once; this saves what the handler mutated in an object.
      if (typeof connection.state !== "object" || connection.state === null) return;
      try {
        this.#rooms.persist(connection);
      } catch (error) {
        connection.fail(error); // e.g. state not serialisable, or over 2 KiB
      }
    }

    webSocketClose(ws: WebSocket, code: number, reason: string): void {
      try {
        this.#rooms.connectionOf(ws)?.closed(code, reason);
      } finally {
        closeQuietly(ws, code, reason);
      }
    }

    webSocketError(ws: WebSocket, error: unknown): void {
      this.#rooms.connectionOf(ws)?.closed(CloseCode.ABNORMAL, String(error));
    }
  };
}

/** The sockets of one Durable Object, their rebuilt connections, and their topics. */
class DurableRooms {
  readonly #connections = new WeakMap<WebSocket, Connection>();
  /** What each connection's attachment holds besides its topics, set on upgrade or restore. */
  readonly #attachments = new WeakMap<Connection, Omit<Attachment["__es"], "topics">>();
  readonly runtime: Runtime = new Runtime({
    upgrade: (_c, connection) => this.#upgrade(connection as Connection),
    topics: this.#topicEngine(),
    persist: (connection) => this.persist(connection),
    sessions: false,
  });

  constructor(
    readonly ctx: DurableObjectState,
    readonly handlers: readonly HandlerClass[],
  ) {}

  /** The connection of `ws`, rebuilt from its attachment after hibernation; `undefined` for a foreign socket. */
  connectionOf(ws: WebSocket): Connection | undefined {
    const known = this.#connections.get(ws);
    if (known) return known;
    const attachment = (ws as WorkerdWebSocket).deserializeAttachment() as Attachment | null;
    if (!attachment?.__es) return undefined; // not a socket of edgesocket's
    return this.#restore(ws, attachment);
  }

  /** Rebuilds the connection of every socket of this object that has none yet. */
  restoreAll(): void {
    for (const ws of this.ctx.getWebSockets(TAG)) this.connectionOf(ws);
  }

  /** The one restore path: a new handler for a socket that outlived its object's memory. */
  #restore(ws: WebSocket, { __es: saved, state }: Attachment): Connection | undefined {
    const Handler = this.handlers[saved.handler];
    if (!Handler) {
      closeQuietly(ws, CloseCode.INTERNAL_ERROR, "handler class no longer listed");
      return undefined;
    }
    const { topics, ...base } = saved;
    const limits = resolveOptions(saved.limits);
    const connection = Connection.restore(new Handler(), limits, this.runtime, { ...base, state }, ws as Transport);
    this.#attachments.set(connection, base);
    this.runtime.pubsub!.restore(connection, topics);
    this.#connections.set(ws, connection);
    return connection;
  }

  #upgrade(connection: Connection): Response {
    const index = this.handlers.indexOf(connection.handler.constructor as HandlerClass);
    if (index < 0) {
      throw new Error(`edgesocket: list ${connection.handler.constructor.name} in durableObject(app, { handlers })`);
    }
    const [client, server] = socketPair();
    this.ctx.acceptWebSocket(server, [TAG]);
    this.#connections.set(server, connection);
    this.#attachments.set(connection, {
      handler: index,
      protocol: connection.protocol,
      params: connection.params,
      limits: routeLimits(connection.limits),
    });
    connection.open(server as Transport);
    try {
      this.persist(connection);
    } catch (error) {
      connection.fail(error); // e.g. state or params over the attachment's 2 KiB
    }
    return switchingProtocols(client, connection);
  }

  /** Writes the connection's topics and `state` into its socket's attachment (at most 2 KiB in all). */
  persist(connection: Connection): void {
    const ws = connection.transport as WorkerdWebSocket | undefined;
    const base = this.#attachments.get(connection);
    if (!ws || !base || connection.readyState === ReadyState.CLOSED) return;
    const attachment: Attachment = { __es: { ...base, topics: connection.topics }, state: connection.state };
    ws.serializeAttachment(attachment);
  }

  /** Topics live in the pub/sub (and each socket's attachment); publishing walks this object's sockets. */
  #topicEngine(): TopicEngine {
    const members = (topic: string) =>
      this.ctx.getWebSockets(TAG)
        .map((ws) => this.connectionOf(ws))
        .filter((c): c is Connection =>
          c?.readyState === ReadyState.OPEN && this.runtime.pubsub!.isSubscribed(c, topic)
        );
    return {
      subscribe() {},
      unsubscribe() {},
      publish(topic: string, data: SendData, except?: Connection) {
        for (const connection of members(topic)) if (connection !== except) connection.deliver(data);
      },
      subscribers: (topic) => members(topic).length,
    };
  }
}

// --- peer ---

/** The limits an open connection still applies (origins were checked at the upgrade). */
type RouteLimits = Omit<Limits, "allowedOrigins" | "resume">;

/** Only the route's limits that differ from the defaults: the attachment holds 2 KiB at most. */
function routeLimits(limits: Limits): Partial<RouteLimits> {
  const changed: Partial<Record<keyof RouteLimits, number>> = {};
  for (const key of Object.keys(limits) as (keyof Limits)[]) {
    const value = limits[key];
    if (typeof value === "number" && value !== DEFAULT_LIMITS[key]) changed[key as keyof RouteLimits] = value;
  }
  return changed;
}

/** Completes the closing handshake the peer started; workerd may have answered it already. */
function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === CloseCode.NO_STATUS || code === CloseCode.ABNORMAL ? CloseCode.NORMAL : code, reason);
  } catch {
    // already closed
  }
}
