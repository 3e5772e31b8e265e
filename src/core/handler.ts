import type { Context, Env } from "hono";
import type { Connection } from "./connection.ts";
import type { ReadyState } from "./constants.ts";
import { isSameOrigin } from "./handshake.ts";
import type { Message, SendData } from "./message.ts";
import { PLAIN_PROTOCOL } from "../protocol/resume.ts";
import { NO_PUBSUB, type PublishOptions, type PubSub } from "./pubsub.ts";

/** Where a handler finds its connection; set by the connection itself before any hook runs. */
export const CONNECTION: unique symbol = Symbol("edgesocket.connection");

const CONTEXT_RELEASED = "edgesocket: `this.context` and `this.request` are available only until `open` has run; " +
  "keep what later hooks need in a field, or in `state` (a Durable Object's handler is rebuilt without them)";

/**
 * One instance per connection, as Tornado's `WebSocketHandler`. Override the hooks you need;
 * every hook may be async, and the next event waits until it settles.
 *
 * @example
 * ```ts
 * class Echo extends WebSocketHandler {
 *   onMessage(message: string | ArrayBuffer) {
 *     this.send(message);
 *   }
 * }
 * app.all("/websocketserver", websocket(Echo));
 * ```
 */
// deno-lint-ignore no-explicit-any -- Hono's own default for an app's `Env`; `S` is the handler's own state
export class WebSocketHandler<E extends Env = any, S = any> {
  /** @internal */
  declare [CONNECTION]: Connection;

  /**
   * The connection is open. Receives the route's params (as Tornado passes path arguments), frozen.
   * No message is handled before it settles.
   */
  open(_params: Readonly<Record<string, string>>): void | Promise<void> {}

  /** A message arrived: text as a `string`, binary as an `ArrayBuffer`. Messages come one at a time, in order. */
  onMessage(_message: Message): void | Promise<void> {}

  /** The connection closed, with the close code and reason the runtime reports. Runs exactly once. */
  onClose(_code: number, _reason: string): void | Promise<void> {}

  /**
   * On a resumable route (`resume` option): the session's connection dropped. The session lives on for the
   * route's `window`; what is sent meanwhile is kept for the client. `onClose` runs only if it does not come back.
   */
  onDisconnect(): void | Promise<void> {}

  /** On a resumable route: the client came back within the window; what it missed has been sent again. */
  onResume(): void | Promise<void> {}

  /** A hook threw or rejected; the connection is then closed with 1011. The default logs the error. */
  onError(error: unknown): void {
    console.error("edgesocket: error in a WebSocket handler:", error);
  }

  /**
   * Whether a browser page from `origin` may connect. Called only when the request has an
   * `Origin` header that `allowedOrigins` does not list. The default allows the request's own host.
   */
  checkOrigin(origin: string): boolean {
    return isSameOrigin(origin, this.request.headers.get("host"));
  }

  /**
   * Chooses one of the subprotocols the client offered, in its order of preference, or `null`
   * for none. Called only when the client offers some. The default chooses none.
   */
  selectSubprotocol(_offered: readonly string[]): string | null {
    return null;
  }

  /**
   * Sends text or binary. Throws `WebSocketClosedError` once the connection is closing or closed.
   * Returns `false` when the socket is congested (its send buffer is above `highWaterMark`): the
   * message is queued, and `await this.drained()` waits for room. A peer that lets the buffer grow
   * past `maxBufferedAmount` is closed with 1008. Always `true` on workerd, which reports no buffer.
   */
  send(data: SendData): boolean {
    return this[CONNECTION].send(data);
  }

  /** Resolves once the send buffer is back at or below `highWaterMark`, or the connection is no longer open. */
  drained(): Promise<void> {
    return this[CONNECTION].drained();
  }

  /**
   * Bytes waiting in the runtime's send buffer (`0` where the runtime does not report it: workerd). On Node, less
   * what this turn of the event loop sent after its first message, which leaves when the turn ends (at most 16 KiB:
   * docs/reliability.md).
   */
  get bufferedAmount(): number {
    return this[CONNECTION].bufferedAmount;
  }

  /** Closes the connection (default 1000). `onClose` runs when the closing handshake is done. */
  close(code?: number, reason?: string): void {
    this[CONNECTION].close(code, reason);
  }

  /**
   * The Hono context of the upgrade request: `this.context.get("user")` reads what middleware set.
   * Available in `checkOrigin`, `selectSubprotocol` and `open` (until its promise settles); it throws
   * afterwards, so that an idle connection keeps no request. Keep what later hooks need in a field,
   * or in `state` where it must survive a Durable Object's hibernation.
   */
  get context(): Context<E> {
    const context = this[CONNECTION].context;
    if (!context) throw new Error(CONTEXT_RELEASED);
    return context as Context<E>;
  }

  /** The upgrade request; available as long as {@link context} is. */
  get request(): Request {
    return this.context.req.raw;
  }

  /** The route's params, as given to `open` (frozen); available for the whole connection. */
  get params(): Readonly<Record<string, string>> {
    return this[CONNECTION].params;
  }

  /** The subprotocol chosen by `selectSubprotocol`, or `""` when none. */
  get protocol(): string {
    const protocol = this[CONNECTION].protocol;
    return protocol === PLAIN_PROTOCOL ? "" : protocol;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState(): ReadyState {
    return this[CONNECTION].readyState;
  }

  // --- rooms ---

  /** Joins `topic`: what is published to it reaches this connection. Ignored once closing. */
  subscribe(topic: string): void {
    pubsubOf(this).subscribe(this[CONNECTION], topic);
  }

  /** Leaves `topic`. A closed connection leaves all its topics by itself. */
  unsubscribe(topic: string): void {
    pubsubOf(this).unsubscribe(this[CONNECTION], topic);
  }

  /**
   * Sends `data` to every subscriber of `topic`, on this server and, with a backplane, on the
   * others. This connection is left out unless `{ self: true }` (and it is subscribed).
   */
  publish(topic: string, data: SendData, options?: PublishOptions): void {
    pubsubOf(this).publish(topic, data, this[CONNECTION], options);
  }

  /** The topics this connection is subscribed to; in `onClose`, the topics it was in. */
  get topics(): string[] {
    return this[CONNECTION].topics;
  }

  /**
   * Small serialisable per-connection data (JSON-like, structured-clonable). On a Durable Object
   * it is saved in the socket's attachment when assigned and after each message, so it survives
   * hibernation: assign a new value rather than mutating it inside an async hook.
   */
  get state(): S | undefined {
    return this[CONNECTION].state as S | undefined;
  }

  set state(value: S | undefined) {
    this[CONNECTION].state = value;
  }
}

function pubsubOf(handler: WebSocketHandler): PubSub {
  const pubsub = handler[CONNECTION].runtime?.pubsub;
  if (!pubsub) throw new Error(NO_PUBSUB);
  return pubsub;
}
