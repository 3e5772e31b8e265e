/**
 * Cloudflare Durable Objects adapter: rooms that hold every socket of a room in one object, with
 * the WebSocket Hibernation API. The object serves the same Hono app; {@link toDurableObject}
 * sends a route's requests to the object named after the request (e.g. its `:room` param).
 *
 * While the object hibernates its handlers are gone and its sockets stay open; on the next
 * event each handler is rebuilt from its socket's attachment, so `state` and topics survive.
 * Resumable sessions (`resume` routes) live in the object's storage (a SQLite-backed class): they survive
 * hibernation and eviction, and a detached session's window ends with the object's alarm.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { CloseCode, ReadyState } from "../core/constants.ts";
import { Connection, type SocketEvents, type Transport } from "../core/connection.ts";
import type { SendData } from "../core/message.ts";
import { DEFAULT_LIMITS, type Limits, resolveOptions } from "../core/options.ts";
import type { TopicEngine } from "../core/pubsub.ts";
import { type HandlerClass, resumableRoutes } from "../core/route.ts";
import { Session, SessionLink, SessionStore } from "../core/session.ts";
import { socketPair, switchingProtocols } from "./cloudflare-pair.ts";
import { FORWARDS_TO_DURABLE_OBJECT } from "./cloudflare-routes.ts";
import {
  DurableSessions,
  type RouteLimits,
  type SavedHandler,
  type SessionSocket,
  type SessionStorage,
} from "./cloudflare-sessions.ts";
import { type FetchApp, RUNTIME, Runtime } from "../core/runtime.ts";

// --- types ---

export type { FetchApp };

/** Options of {@link durableObject}. */
export interface DurableObjectOptions {
  /** Every handler class the object's routes serve: a hibernated socket's handler is rebuilt from one of them. */
  handlers: readonly HandlerClass[];
  /**
   * A text message the object answers itself, without waking up, e.g. a client's heartbeat.
   * Default `{ request: "ping", response: "pong" }`; `null` for none. None either, and none allowed, when a route of
   * the app keeps sessions (`resume`): the platform answers every socket of the object, a session's too, outside the
   * session's count of messages, so a session whose client sent that text would break.
   */
  autoResponse?: { request: string; response: string } | null;
}

/** The part of `DurableObjectState` this adapter uses. */
export interface DurableObjectState {
  /** The object's storage: its synchronous key-value API and its alarm keep the resumable sessions. */
  readonly storage: SessionStorage;
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
    /** Ends the resumable sessions whose window is over (a subclass with an alarm of its own calls it too). */
    alarm(): void;
  };
}

interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/**
 * What a socket's attachment holds: edgesocket's part, namespaced, and the handler's `state`; for a socket of a
 * resumable session, only which session (its handler is in the storage).
 */
type Attachment = { __es: SavedHandler; state: unknown } | { __es: SessionSocket };

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
  // `worker(app)` lets the resumable routes this covers through: a Durable Object keeps their sessions.
  return Object.assign(forward, { [FORWARDS_TO_DURABLE_OBJECT]: true });
}

/**
 * A Durable Object class that serves `app` with the Hibernation API: `export const Rooms = durableObject(app, { handlers: [Chat] })`,
 * and in `wrangler.toml` a `durable_objects` binding with `class_name = "Rooms"` and a migration
 * (`new_sqlite_classes`, which resumable routes need). The object's alarm ends the windows of detached sessions.
 * @throws Error if a route of `app` keeps sessions (`resume`) and `autoResponse` is set; and when the object is made,
 * if such a route exists and the class is not SQLite-backed.
 */
export function durableObject(app: FetchApp, options: DurableObjectOptions): DurableObjectClass {
  const resumable = resumableRoutes(app);
  if (resumable.length > 0 && options.autoResponse) {
    throw new Error(
      `edgesocket: autoResponse cannot be used with ${resumable.join(", ")}, which keeps sessions (resume): the ` +
        "platform would answer a session's message outside the session",
    );
  }
  const autoResponse = options.autoResponse === undefined && resumable.length === 0
    ? { request: "ping", response: "pong" }
    : options.autoResponse ?? null;
  return class EdgesocketDurableObject {
    readonly #rooms: DurableRooms;
    readonly #env: object;

    constructor(ctx: DurableObjectState, env: object) {
      if (resumable.length > 0 && !ctx.storage?.kv) {
        throw new Error(
          `edgesocket: ${resumable.join(", ")} keeps sessions (resume) in the Durable Object's storage, which needs ` +
            "a SQLite-backed class: list it under new_sqlite_classes in the migration",
        );
      }
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
      this.#rooms.wake();
      // After hibernation only the sockets that had an event are rebuilt: count them all for maxConnections.
      if (request.headers.has("upgrade")) this.#rooms.restoreAll();
      return app.fetch(request, this.#env);
    }

    webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
      this.#rooms.wake();
      const socket = this.#rooms.socketOf(ws);
      if (!socket) return;
      socket.receive(message);
      // An assignment to `state` saves it at once; this saves what the handler mutated in an object. (A session's
      // journal reads its handler's state whenever it writes the session, within a second of each message.)
      if (!(socket instanceof Connection) || typeof socket.state !== "object" || socket.state === null) return;
      try {
        this.#rooms.persist(socket);
      } catch (error) {
        socket.fail(error); // e.g. state not serialisable, or over 2 KiB
      }
    }

    webSocketClose(ws: WebSocket, code: number, reason: string): void {
      try {
        this.#rooms.wake();
        // A client whose connection dropped, or a TCP cut, arrives here as 1006 (wasClean false): a session detaches.
        this.#rooms.socketOf(ws)?.closed(code, reason);
      } finally {
        closeQuietly(ws, code, reason);
      }
    }

    webSocketError(ws: WebSocket, error: unknown): void {
      this.#rooms.wake();
      this.#rooms.socketOf(ws)?.closed(CloseCode.ABNORMAL, String(error));
    }

    alarm(): void {
      this.#rooms.wake();
      this.#rooms.expireSessions();
    }
  };
}

/**
 * The sockets of one Durable Object, their rebuilt connections, their topics, and the resumable sessions in its
 * storage.
 */
class DurableRooms {
  /** Each socket's connection, or its link to a session. */
  readonly #sockets = new WeakMap<WebSocket, SocketEvents>();
  /** What each connection's attachment holds besides its topics, set on upgrade or restore. */
  readonly #attachments = new WeakMap<Connection, Omit<SavedHandler, "topics">>();
  readonly #sessions: DurableSessions | undefined;
  readonly runtime: Runtime;
  /** The sessions in the storage were restored in this object's memory. */
  #awake = false;

  constructor(
    readonly ctx: DurableObjectState,
    readonly handlers: readonly HandlerClass[],
  ) {
    const kv = ctx.storage?.kv;
    if (kv) {
      this.#sessions = new DurableSessions(kv, ctx.storage, {
        save: (connection) => ({ ...this.#saved(connection), topics: connection.topics }),
        serves: (saved) => this.handlers[saved.handler] !== undefined,
        rebuild: (saved, state, session) => this.#rebuild(saved, state, session),
        attach: (ws, attachment) => (ws as WorkerdWebSocket).serializeAttachment({ __es: attachment }),
      });
    }
    this.runtime = new Runtime({
      upgrade: (_c, socket) => this.#upgrade(socket),
      topics: this.#topicEngine(),
      persist: (connection) => this.persist(connection),
      sessions: this.#sessions ? new SessionStore(this.#sessions) : false,
    });
  }

  /**
   * On the object's first event: restores the sessions its storage holds, rejoins those whose socket outlived the
   * object's memory, and detaches those whose socket is gone.
   */
  wake(): void {
    if (this.#awake || !this.#sessions) return;
    this.#awake = true;
    const store = this.runtime.sessions!;
    this.#sessions.restore(store);
    if (store.size === 0) return;
    this.restoreAll();
    for (const session of store) session.lostLink();
    this.#sessions.reschedule();
  }

  /** Ends the detached sessions whose window is over (the object's alarm). */
  expireSessions(): void {
    if (this.#sessions) this.#sessions.expireDue(this.runtime.sessions!, Date.now());
  }

  /** What `ws` drives, rebuilt from its attachment after hibernation; `undefined` for a foreign socket. */
  socketOf(ws: WebSocket): SocketEvents | undefined {
    const known = this.#sockets.get(ws);
    if (known) return known;
    const attachment = (ws as WorkerdWebSocket).deserializeAttachment() as Attachment | null;
    if (!attachment?.__es) return undefined; // not a socket of edgesocket's
    if ("session" in attachment.__es) return this.#rejoin(ws, attachment.__es);
    return this.#restore(ws, attachment as Extract<Attachment, { state: unknown }>);
  }

  /** Rebuilds what every socket of this object drives, where nothing does yet. */
  restoreAll(): void {
    for (const ws of this.ctx.getWebSockets(TAG)) this.socketOf(ws);
  }

  /** The one restore path: a new handler for a socket that outlived its object's memory. */
  #restore(ws: WebSocket, { __es: saved, state }: Extract<Attachment, { state: unknown }>): Connection | undefined {
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
    this.#sockets.set(ws, connection);
    return connection;
  }

  /** A socket of a session that outlived the object's memory carries its session again, if still the current one. */
  #rejoin(ws: WebSocket, { session: id, socket }: SessionSocket): SessionLink | undefined {
    const session = id === null ? undefined : this.runtime.sessions?.get(id);
    const link = session && this.#sessions!.isCurrent(id!, socket)
      ? SessionLink.rejoin(session, ws as Transport)
      : undefined;
    if (!link) {
      // Before its hello (the object cannot hibernate then), a socket the client has moved on from, or one whose
      // session was detached meanwhile.
      closeQuietly(ws, CloseCode.POLICY_VIOLATION, "session not carried by this connection");
      return undefined;
    }
    this.#sockets.set(ws, link);
    return link;
  }

  /** The handler of a session from the storage, on a new connection whose transport is the session. */
  #rebuild(saved: SavedHandler, state: unknown, session: Session): Connection {
    const { topics, ...base } = saved;
    const limits = resolveOptions({ ...saved.limits, resume: session.limits });
    const connection = Connection.restore(new this.handlers[saved.handler]!(), limits, this.runtime, {
      ...base,
      state,
    }, session);
    this.runtime.pubsub!.restore(connection, topics);
    return connection;
  }

  #upgrade(socket: SocketEvents): Response {
    const fresh = socket instanceof SessionLink ? socket.fresh : socket as Connection;
    // The handler's class must be listed (a session's too: the storage keeps it with the session).
    const saved = this.#saved(fresh);
    if (socket instanceof Connection) this.#attachments.set(fresh, saved);
    const [client, server] = socketPair();
    this.ctx.acceptWebSocket(server, [TAG]);
    this.#sockets.set(server, socket);
    if (socket instanceof SessionLink) {
      (server as WorkerdWebSocket).serializeAttachment({ __es: { session: null } satisfies SessionSocket });
    }
    socket.open(server as Transport);
    if (socket instanceof Connection) {
      try {
        this.persist(socket);
      } catch (error) {
        socket.fail(error); // e.g. state or params over the attachment's 2 KiB
      }
    }
    return switchingProtocols(client, socket);
  }

  /** What rebuilds `connection`'s handler: its listed class, protocol, params and route limits. */
  #saved(connection: Connection): Omit<SavedHandler, "topics"> {
    const index = this.handlers.indexOf(connection.handler.constructor as HandlerClass);
    if (index < 0) {
      throw new Error(`edgesocket: list ${connection.handler.constructor.name} in durableObject(app, { handlers })`);
    }
    return {
      handler: index,
      protocol: connection.protocol,
      params: connection.params,
      limits: routeLimits(connection.limits),
    };
  }

  /**
   * Saves the connection's topics and `state`: in its socket's attachment (at most 2 KiB in all), or for a
   * session's handler in the storage, within a second.
   */
  persist(connection: Connection): void {
    if (connection.transport instanceof Session) return this.#sessions?.handlerChanged(connection.transport);
    const ws = connection.transport as WorkerdWebSocket | undefined;
    const base = this.#attachments.get(connection);
    if (!ws || !base || connection.readyState === ReadyState.CLOSED) return;
    const attachment: Attachment = { __es: { ...base, topics: connection.topics }, state: connection.state };
    ws.serializeAttachment(attachment);
  }

  /**
   * Topics live in the pub/sub (and each socket's attachment); publishing walks this object's sockets. Sessions'
   * handlers are in the core's own topics (their messages are kept for replay), restored from the storage.
   */
  #topicEngine(): TopicEngine {
    const members = (topic: string) =>
      this.ctx.getWebSockets(TAG)
        .map((ws) => this.socketOf(ws))
        .filter((c): c is Connection =>
          c instanceof Connection && c.readyState === ReadyState.OPEN && this.runtime.pubsub!.isSubscribed(c, topic)
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
