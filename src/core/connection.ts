import type { Context } from "hono";
import { DrainWatch } from "./backpressure.ts";
import { assertSendableClose } from "./close.ts";
import { CloseCode, ReadyState } from "./constants.ts";
import { WebSocketClosedError } from "./errors.ts";
import { CONNECTION, type WebSocketHandler } from "./handler.ts";
import { exceedsSize, type Message, type SendData } from "./message.ts";
import { HEARTBEAT_SLOT } from "./heartbeat.ts";
import type { Limits } from "./options.ts";
import { MessageRate } from "./rate.ts";
import { SHUTDOWN_CLOSE } from "./shutdown.ts";
import type { Runtime } from "./runtime.ts";

/** The close reason sent to a slow consumer (see `maxBufferedAmount`). */
export const SLOW_CONSUMER_REASON = "slow consumer: send buffer full";
/** The close reason sent past `maxMessagesPerSecond`. */
export const RATE_EXCEEDED_REASON = "message rate exceeded";

/**
 * The part of a live runtime socket the core drives. Deno's and workerd's `WebSocket` fit it as they are; Bun's
 * `ServerWebSocket` and `ws`'s `WebSocket` through a small wrapper each.
 */
export interface Transport {
  /** Sends one message: text as a text frame, binary as a binary frame. */
  send(data: SendData): unknown;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): unknown;
  /**
   * Bytes queued but not yet written to the network; absent where the runtime does not report it
   * (workerd). `Infinity` once the runtime dropped a message it could not queue (Bun): the core
   * then closes the socket as a slow consumer even when `maxBufferedAmount` is 0.
   */
  readonly bufferedAmount?: number;
  /** Sends a ping; present where the server may ping (`ws`, Bun), which turns on the core's heartbeat. */
  ping?(): unknown;
  /** Drops the connection at once, without a closing handshake. */
  terminate?(): unknown;
  /**
   * True when the transport keeps what it sends for replay (a resumable session): a runtime's own topic
   * engine, which writes to sockets directly (Bun's), must leave such a connection to the core's.
   */
  readonly replays?: boolean;
}

/**
 * What an adapter drives for each runtime socket: a {@link Connection}, or one socket of a resumable session
 * (`SessionLink`). The adapter reports the socket's events; it reads only the route's limits and subprotocol.
 */
export interface SocketEvents {
  /** The route's limits. */
  readonly limits: Limits;
  /** The subprotocol chosen at the upgrade, or `""`. */
  readonly protocol: string;
  /** The runtime socket is open. */
  open(transport: Transport): void;
  /** A whole message arrived. */
  receive(message: Message): void;
  /** The runtime socket is closed, whoever closed it. */
  closed(code: number, reason: string): void;
  /** A pong arrived. */
  pong(): void;
  /** The runtime's send buffer drained. */
  writable(): void;
}

/** The hooks a resumable session calls between messages, in order with them. */
export type SessionHook = "onDisconnect" | "onResume";

/** A queued call of a {@link SessionHook}, told apart from queued messages by its class. */
class HookCall {
  constructor(readonly hook: SessionHook) {}
}

/** Called once a connection has closed and its `onClose` has run. */
export type CloseListener = (connection: Connection) => void;

/** What a connection rebuilt after hibernation had before: see {@link Connection.restore}. */
export interface SavedConnection {
  /** The subprotocol chosen at the upgrade, or `""`. */
  protocol: string;
  /** The route's params of the upgrade request. */
  params: Record<string, string>;
  /** The handler's `state`. */
  state: unknown;
}

/** The params of a route without any: one frozen object for all its connections, none made per connection. */
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** `params`, frozen (the same on every route), or {@link NO_PARAMS} when there are none. */
function frozenParams(params: Record<string, string>): Readonly<Record<string, string>> {
  for (const _ in params) return Object.freeze(params);
  return NO_PARAMS;
}

/**
 * One connection's lifecycle, the same on every runtime: the one state machine of a connection.
 * An adapter reports what its socket does (`open`, `receive`, `closed`); the connection calls the
 * handler's hooks so that `open` settles before the first `onMessage`, messages are handled one at a
 * time in order, a throwing hook closes with 1011, and `onClose` runs exactly once. Every change of
 * `readyState` goes through one method, which also drops what a closing connection no longer needs.
 */
export class Connection implements SocketEvents {
  #readyState: ReadyState = ReadyState.CONNECTING;
  #protocol = "";
  #transport: Transport | undefined;
  #params: Readonly<Record<string, string>>;
  #state: unknown;
  #context: Context | undefined;
  #heard = 0;
  /** The heartbeat's (see {@link HEARTBEAT_SLOT}). */
  [HEARTBEAT_SLOT]: number = -1;
  #onClosed: CloseListener | undefined;

  /** True while a hook runs (sync or async): the next event waits. */
  #busy = false;
  #queue: (Message | HookCall)[] | undefined;
  #queueHead = 0;
  /** The close the runtime reported while a hook still ran: `onClose` gets it once the hook settles. */
  #pendingClose: { code: number; reason: string } | undefined;
  #drainWatch: DrainWatch | undefined;
  readonly #rate: MessageRate | undefined;

  /**
   * A connection of `handler` (which it attaches itself to), with its route's `limits`, for the upgrade
   * request `context`, on the server `runtime` (whose registry, topics and heartbeat it joins while open).
   */
  constructor(
    readonly handler: WebSocketHandler,
    readonly limits: Limits,
    context: Context | undefined,
    readonly runtime?: Runtime,
  ) {
    handler[CONNECTION] = this;
    this.#context = context;
    this.#params = context ? frozenParams(context.req.param() as Record<string, string>) : NO_PARAMS;
    if (limits.maxMessagesPerSecond > 0) this.#rate = new MessageRate(limits.maxMessagesPerSecond);
  }

  /**
   * The one restore path of a connection whose socket outlived its handler (a Durable Object woken from
   * hibernation): a new `handler` gets the saved protocol, params and `state`, and the connection is open
   * again on `transport` without running `open` a second time. Its topics are restored by the runtime's pub/sub.
   */
  static restore(
    handler: WebSocketHandler,
    limits: Limits,
    runtime: Runtime,
    saved: SavedConnection,
    transport: Transport,
  ): Connection {
    const connection = new Connection(handler, limits, undefined, runtime);
    connection.reopen(saved, transport);
    return connection;
  }

  /**
   * Opens a connection that has not opened as the continuation of one that opened before, elsewhere (a session
   * rebuilt on another server): the saved protocol, params and `state`, on `transport`, without running `open`.
   * The request is dropped, as after `open`. Its topics are restored by the runtime's pub/sub.
   */
  reopen(saved: SavedConnection, transport: Transport): void {
    this.#protocol = saved.protocol;
    this.#params = frozenParams(saved.params);
    this.#state = saved.state;
    this.#context = undefined;
    this.#start(transport);
  }

  /** 0–3 as in the browser's `WebSocket`. */
  get readyState(): ReadyState {
    return this.#readyState;
  }

  /** The chosen subprotocol, or `""`. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The live socket, once the adapter has opened the connection. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** The route's params, read from the upgrade request (or restored after hibernation). */
  get params(): Readonly<Record<string, string>> {
    return this.#params;
  }

  /**
   * The upgrade request's Hono context, until `open` has returned (or its promise settled): an idle
   * connection then keeps neither the context nor the request, and a handler reads them the same way
   * on every runtime, including in a Durable Object woken from hibernation (which has no request).
   */
  get context(): Context | undefined {
    return this.#context;
  }

  /** The handler's serialisable per-connection `state`; saved by the runtime's `persist` when assigned. */
  get state(): unknown {
    return this.#state;
  }

  set state(value: unknown) {
    this.#state = value;
    this.runtime?.persist?.(this);
  }

  /** How many times the peer was heard from (messages and pongs): what the heartbeat watches. */
  get heard(): number {
    return this.#heard;
  }

  /** The topics this connection is in (after it closed: the topics it was in). */
  get topics(): string[] {
    return this.runtime?.pubsub?.topicsOf(this) ?? [];
  }

  /** Called once the connection has closed and its `onClose` has run (one listener: the in-memory test client). */
  onceClosed(listener: CloseListener): void {
    this.#onClosed = listener;
  }

  // --- the handshake ---

  /** Records the subprotocol chosen during the handshake; only before the connection opens. */
  selectProtocol(protocol: string): void {
    if (this.#readyState === ReadyState.CONNECTING) this.#protocol = protocol;
  }

  // --- inputs from the adapter ---

  /** The runtime socket is open: runs the handler's `open`. */
  open(transport: Transport): void {
    if (!this.#start(transport)) return;
    this.#runOpen();
    // Accepted as the server began shutting down: its round of closes has passed this connection.
    if (this.runtime?.shuttingDown) this.close(SHUTDOWN_CLOSE.code, SHUTDOWN_CLOSE.reason);
  }

  #runOpen(): void {
    this.#busy = true;
    let result: unknown;
    try {
      result = this.handler.open(this.#params);
    } catch (error) {
      this.#failed(error);
      this.#context = undefined;
      return;
    }
    if (isPromiseLike(result)) {
      result.then(() => {
        this.#context = undefined;
        this.#settled();
      }, (error) => {
        this.#failed(error);
        this.#context = undefined;
      });
    } else {
      this.#context = undefined;
      this.#await(result);
    }
  }

  /** Opens the connection on `transport` and joins the server; false if it was not connecting. */
  #start(transport: Transport): boolean {
    if (this.#readyState !== ReadyState.CONNECTING) return false;
    this.#transport = transport;
    this.#moveTo(ReadyState.OPEN);
    return true;
  }

  /** A whole message arrived from the peer. */
  receive(message: Message): void {
    if (this.#readyState !== ReadyState.OPEN) return;
    this.#heard++;
    if (exceedsSize(message, this.limits.maxMessageSize)) {
      this.close(CloseCode.MESSAGE_TOO_BIG, "message too big");
    } else if (this.#rate?.exceeded()) {
      this.close(CloseCode.POLICY_VIOLATION, RATE_EXCEEDED_REASON);
    } else if (this.#busy) {
      (this.#queue ??= []).push(message);
    } else {
      this.#deliver(message);
    }
  }

  /** The runtime socket is closed, whoever closed it. Runs `onClose` once the running hook settles. */
  closed(code: number, reason: string): void {
    const was = this.#readyState;
    if (was === ReadyState.CLOSED) return;
    this.#moveTo(ReadyState.CLOSED);
    if (was === ReadyState.CONNECTING) return;
    this.#pendingClose = { code, reason };
    if (!this.#busy) this.#finish();
  }

  /**
   * A resumable session's socket dropped (`onDisconnect`) or came back (`onResume`): runs the hook in order
   * with the messages, as any other hook.
   */
  notify(hook: SessionHook): void {
    if (this.#readyState !== ReadyState.OPEN) return;
    if (this.#busy) (this.#queue ??= []).push(new HookCall(hook));
    else this.#runHook(hook);
  }

  #runHook(hook: SessionHook): void {
    this.#busy = true;
    let result: unknown;
    try {
      result = this.handler[hook]();
    } catch (error) {
      this.#failed(error);
      return;
    }
    this.#await(result);
  }

  /** True when no hook runs and no message waits: what a session checks before it moves to another server. */
  get idle(): boolean {
    return !this.#busy && (this.#queue === undefined || this.#queueHead === this.#queue.length);
  }

  /**
   * The connection's session moved to another server, where a new handler instance carries it on: this one is
   * closed without `onClose` (it leaves its topics and the server, and `send` throws from now on).
   */
  handOver(): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#moveTo(ReadyState.CLOSED);
    this.#pendingClose = undefined;
    this.runtime?.connections.delete(this);
  }

  /** A pong arrived: the peer is alive. Adapters whose runtime reports pongs call it. */
  pong(): void {
    this.#heard++;
  }

  /** The runtime reports that its send buffer drained (Bun's `drain` event): wakes `drained()`. */
  writable(): void {
    this.#drainWatch?.check();
  }

  // --- the one place where readyState changes ---

  #moveTo(next: ReadyState): void {
    const previous = this.#readyState;
    this.#readyState = next;
    if (next === ReadyState.OPEN) {
      this.runtime?.connections.add(this);
      if (this.limits.idleTimeout > 0 && this.#transport!.ping) this.runtime?.heartbeat.watch(this);
      return;
    }
    // Closing or closed: nothing queued is handled any more, and whoever waits for room stops waiting.
    this.#queue = undefined;
    this.#queueHead = 0;
    this.#drainWatch?.release();
    if (next === ReadyState.CLOSED && previous !== ReadyState.CONNECTING) {
      this.runtime?.pubsub?.leaveAll(this);
      this.runtime?.heartbeat.unwatch(this);
    }
  }

  // --- actions of the handler ---

  /**
   * Sends a message; throws {@link WebSocketClosedError} once the connection is closing or closed.
   * Returns `false` when the send buffer is above `highWaterMark` (congested: await `drained()`),
   * and closes a slow consumer with 1008 once it is above `maxBufferedAmount` (counting this message,
   * so one message larger than that closes the socket unless the runtime writes it at once; a transport that
   * gathers a turn's sends into one write leaves that batch out, as Node's does).
   * Always `true` where the runtime does not report its buffer.
   */
  send(data: SendData): boolean {
    if (this.#readyState !== ReadyState.OPEN) throw new WebSocketClosedError();
    this.#transport!.send(data);
    return this.#checkSendBuffer();
  }

  /** After a send: closes a slow consumer (1008); `true` while the buffer is at or below `highWaterMark`. */
  #checkSendBuffer(): boolean {
    const buffered = this.#transport!.bufferedAmount;
    // The common case first: nothing waiting (0), or a runtime that does not report its buffer (undefined).
    if (!buffered) return true;
    const max = this.limits.maxBufferedAmount;
    if (buffered > max && (max > 0 || buffered === Number.POSITIVE_INFINITY)) {
      this.close(CloseCode.POLICY_VIOLATION, SLOW_CONSUMER_REASON);
      return false;
    }
    return buffered <= this.limits.highWaterMark;
  }

  /** Bytes waiting in the runtime's send buffer; `0` where the runtime does not report it. */
  get bufferedAmount(): number {
    return this.#transport?.bufferedAmount ?? 0;
  }

  /**
   * Resolves once the send buffer is at or below `highWaterMark`, or once the connection is no
   * longer open (then `send` throws). Resolves at once where the runtime does not report its buffer.
   */
  drained(): Promise<void> {
    if (this.#hasRoom()) return Promise.resolve();
    return (this.#drainWatch ??= new DrainWatch(() => this.#hasRoom())).wait();
  }

  #hasRoom(): boolean {
    return this.#readyState !== ReadyState.OPEN || this.bufferedAmount <= this.limits.highWaterMark;
  }

  /** Starts the closing handshake; `onClose` runs when the runtime reports the socket closed. */
  close(code: number = CloseCode.NORMAL, reason = ""): void {
    assertSendableClose(code, reason);
    if (this.#readyState !== ReadyState.OPEN) return;
    this.#moveTo(ReadyState.CLOSING);
    try {
      this.#transport!.close(code, reason);
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * Drops the connection without a closing handshake (a dead peer, or shutdown's deadline) where
   * the runtime can (`ws`, Bun); elsewhere does nothing. `onClose` runs when the runtime reports it closed.
   */
  terminate(): void {
    const transport = this.#transport;
    if (!transport?.terminate || this.#readyState === ReadyState.CLOSED) return;
    this.#moveTo(ReadyState.CLOSING);
    try {
      transport.terminate();
    } catch (error) {
      this.#report(error);
    }
  }

  /** Sends a ping where the runtime can; a socket that is closing ignores it (its close event follows). */
  ping(): void {
    try {
      this.#transport?.ping?.();
    } catch {
      // the socket is closing; its close event removes it
    }
  }

  /** Reports `error` to `onError` and closes the connection with 1011. */
  fail(error: unknown): void {
    this.#report(error);
    this.close(CloseCode.INTERNAL_ERROR, "internal error");
  }

  // --- pub/sub ---

  /**
   * Sends a publication, with the same slow-consumer limit as `send`: never throws, since a socket
   * closing under a publisher must not stop the others.
   */
  deliver(data: SendData): void {
    try {
      this.#transport!.send(data);
    } catch {
      return; // the runtime is closing this socket; its close event follows
    }
    this.#checkSendBuffer();
  }

  // --- hook scheduling ---

  // `#busy` is set while any hook runs, sync or async, so that a close the runtime reports
  // synchronously from inside `close()` still waits for the running hook to return.
  #deliver(message: Message): void {
    this.#busy = true;
    let result: unknown;
    try {
      result = this.handler.onMessage(message);
    } catch (error) {
      this.#failed(error);
      return;
    }
    this.#await(result);
  }

  #await(result: unknown): void {
    // Most hooks return nothing: one comparison instead of a call (measured on the message path).
    if (result !== undefined && isPromiseLike(result)) {
      // Made on the first async hook only: a connection whose hooks are all sync keeps no closures.
      this.#onSettled ??= () => this.#settled();
      this.#onFailed ??= (error) => this.#failed(error);
      result.then(this.#onSettled, this.#onFailed);
    } else if (this.#pendingClose) this.#settled();
    else this.#busy = false;
  }

  #onSettled: (() => void) | undefined;
  #onFailed: ((error: unknown) => void) | undefined;

  #settled(): void {
    this.#busy = false;
    this.#drain();
  }

  #failed(error: unknown): void {
    this.#busy = false;
    this.fail(error);
    this.#drain();
  }

  #drain(): void {
    const queue = this.#queue;
    while (!this.#busy && queue && this.#queueHead < queue.length && this.#readyState === ReadyState.OPEN) {
      const message = queue[this.#queueHead]!;
      queue[this.#queueHead++] = undefined!;
      if (message instanceof HookCall) this.#runHook(message.hook);
      else this.#deliver(message);
    }
    if (queue && this.#queueHead === queue.length) {
      this.#queue = undefined;
      this.#queueHead = 0;
    }
    if (!this.#busy && this.#pendingClose) this.#finish();
  }

  /** Runs `onClose` with the close the runtime reported, once, and leaves the server. */
  #finish(): void {
    const { code, reason } = this.#pendingClose!;
    this.#pendingClose = undefined;
    try {
      const result = this.handler.onClose(code, reason);
      if (isPromiseLike(result)) result.then(undefined, (error) => this.#report(error));
    } catch (error) {
      this.#report(error);
    }
    this.runtime?.connections.delete(this);
    this.#onClosed?.(this);
  }

  #report(error: unknown): void {
    try {
      this.handler.onError(error);
    } catch (secondError) {
      console.error("edgesocket: onError threw while reporting", error, secondError);
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}
