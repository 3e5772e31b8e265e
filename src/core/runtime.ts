import type { Context } from "hono";
import type { Connection, SocketEvents } from "./connection.ts";
import { Heartbeat } from "./heartbeat.ts";
import { type Backplane, PubSub, type TopicEngine } from "./pubsub.ts";
import { ConnectionRegistry } from "./registry.ts";
import { assertSendableClose } from "./close.ts";
import { shutdown, SHUTDOWN_CLOSE, type ShutdownOptions } from "./shutdown.ts";
import { Session, SessionStore } from "./session.ts";
import type { SessionEngine } from "./session-engine.ts";

/** A Hono app, or anything with its `fetch`: what every adapter serves. */
export interface FetchApp {
  /** Answers one HTTP request; `env` carries the runtime to edgesocket (and a Worker's bindings). */
  fetch(request: Request, env: object, ctx?: unknown): Response | Promise<Response>;
}

/** Options every adapter's `serve()` takes. */
export interface ListenOptions {
  /** Default 8000, as in the seed. `0` picks a free port. */
  port?: number;
  /** Default `"0.0.0.0"`. */
  hostname?: string;
  /** Relays topics between servers, e.g. `redisBackplane()` from `edgesocket/redis`. Default: this process only. */
  backplane?: Backplane;
  /**
   * Shares resumable sessions with other servers, e.g. `redisSessions(backplane)` from `edgesocket/redis`: a client
   * that comes back to another server resumes there. Default: each server keeps its own sessions, in memory.
   */
  sessions?: SessionEngine;
}

/** The port and hostname `serve()` listens on when none are given. */
export const DEFAULT_LISTEN: Readonly<{ port: number; hostname: string }> = Object.freeze({
  port: 8000,
  hostname: "0.0.0.0",
});

/** What an adapter tells the {@link Runtime} it makes: the one step that differs per runtime, and its topics. */
export interface RuntimeOptions {
  /**
   * Hands the upgrade request to the runtime, wires its socket to `socket` (a {@link Connection}, or one socket of
   * a resumable session) and returns the response to send.
   */
  upgrade(c: Context, socket: SocketEvents): Response | Promise<Response>;
  /**
   * How this server delivers to its own subscribers: an engine of the runtime's own (Bun's topics, a Durable
   * Object's sockets), the in-memory one when omitted, or `false` where the runtime has no pub/sub (a plain Worker).
   */
  topics?: TopicEngine | false;
  /** Relays topics between servers. */
  backplane?: Backplane;
  /** The most topics one connection may be in. Default 1000. */
  maxTopicsPerConnection?: number;
  /**
   * Whether this server keeps resumable sessions: `true` (the default) in memory, a {@link SessionStore} of the
   * adapter's own (with a journal that keeps them outside memory: a Durable Object's storage), an engine that shares
   * them with other servers, or `false` where it cannot keep them (a plain Worker).
   */
  sessions?: boolean | SessionStore | SessionEngine;
  /**
   * Saves a connection's `state` and topics outside memory after each change (a Durable Object's socket
   * attachment, which outlives the handler through hibernation).
   */
  persist?: (connection: Connection) => void;
}

/**
 * One app served by one adapter: its open connections, topics, heartbeat and shutdown. An adapter makes
 * one per `serve()` (or per Worker, Durable Object, or in-memory test server) and puts it in
 * `c.env[RUNTIME]`; two servers in one process share nothing.
 */
export class Runtime {
  /** The open connections of this server. */
  readonly connections: ConnectionRegistry = new ConnectionRegistry();
  /** Pings and drops silent peers, where the runtime lets the server ping. */
  readonly heartbeat: Heartbeat = new Heartbeat();
  /** The server's topics; `undefined` where the runtime has no pub/sub. */
  readonly pubsub: PubSub | undefined;
  /** The resumable sessions of this server; `undefined` where the runtime cannot keep them. */
  readonly sessions: SessionStore | undefined;
  /** See {@link RuntimeOptions.persist}. */
  readonly persist: ((connection: Connection) => void) | undefined;
  readonly #upgrade: RuntimeOptions["upgrade"];
  #shutdown: Promise<void> | undefined;

  /** A server of the adapter that gives `options`. */
  constructor(options: RuntimeOptions) {
    this.#upgrade = options.upgrade;
    const { sessions } = options;
    if (sessions instanceof SessionStore) this.sessions = sessions;
    else if (sessions !== false) this.sessions = new SessionStore(sessions === true ? undefined : sessions);
    // A journal that saves state and topics (a shared session's) hears of their changes when the adapter does not.
    this.persist = options.persist ?? (this.sessions?.journal?.changed ? sessionChanged : undefined);
    if (options.topics !== false) {
      this.pubsub = new PubSub(options.topics || undefined, options.backplane, {
        maxTopicsPerConnection: options.maxTopicsPerConnection,
        onChange: this.persist,
      });
    }
    this.sessions?.engine?.start(this);
  }

  /** Hands an accepted upgrade to the runtime; see {@link RuntimeOptions.upgrade}. */
  upgrade(c: Context, socket: SocketEvents): Response | Promise<Response> {
    return this.#upgrade(c, socket);
  }

  /** True once `shutdown` has started: new upgrades are refused with 503. */
  get shuttingDown(): boolean {
    return this.#shutdown !== undefined;
  }

  /**
   * Closes every connection and then stops the runtime's listener with `stopAccepting`; see
   * {@link shutdown}. Runs once: later calls return the first call's promise.
   */
  shutdown(stopAccepting: () => Promise<unknown> | unknown, options?: ShutdownOptions): Promise<void> {
    // A close no socket may be sent throws here, before the server stops accepting.
    assertSendableClose(options?.code ?? SHUTDOWN_CLOSE.code, options?.reason ?? SHUTDOWN_CLOSE.reason);
    const movable = this.sessions?.engine ? this.sessions : undefined;
    return (this.#shutdown ??= shutdown(this.connections, stopAccepting, options, movable));
  }
}

function sessionChanged(connection: Connection): void {
  if (connection.transport instanceof Session) connection.transport.changed();
}

/** The key under which an adapter puts its {@link Runtime} into Hono's `c.env`. */
export const RUNTIME: unique symbol = Symbol.for("edgesocket.runtime");

/** A `c.env` that carries a runtime. */
export interface RuntimeEnv {
  /** The adapter's runtime; absent when the app is not served by an edgesocket adapter. */
  [RUNTIME]?: Runtime;
}

/** The runtime serving the request of `c`, if an edgesocket adapter serves it. */
export function runtimeOf(c: Context): Runtime | undefined {
  return (c.env as RuntimeEnv | undefined)?.[RUNTIME];
}
