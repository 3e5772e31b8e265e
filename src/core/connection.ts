import type { Context } from "hono";
import { DrainWatch } from "./backpressure.ts";
import { assertSendableClose } from "./close.ts";
import { CloseCode, ReadyState } from "./constants.ts";
import { WebSocketClosedError } from "./errors.ts";
import type { WebSocketHandler } from "./handler.ts";
import { unwatchHeartbeat, watchHeartbeat } from "./heartbeat.ts";
import { exceedsSize, type Message, type SendData } from "./message.ts";
import type { Limits } from "./options.ts";
import type { PubSub } from "./pubsub.ts";
import { MessageRate } from "./rate.ts";
import type { ConnectionRegistry } from "./registry.ts";

/** The close reason sent to a slow consumer (see `maxBufferedAmount`). */
export const SLOW_CONSUMER_REASON = "slow consumer: send buffer full";
/** The close reason sent past `maxMessagesPerSecond`. */
export const RATE_EXCEEDED_REASON = "message rate exceeded";

/**
 * The part of a live runtime socket the core drives. Deno's and workerd's `WebSocket` and
 * `ws`'s `WebSocket` fit it as they are; Bun's `ServerWebSocket` through a small wrapper.
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
}

/** Called once a connection has closed and its `onClose` has run. */
export type CloseListener = (connection: Connection) => void;

/**
 * One connection's lifecycle, the same on every runtime. An adapter reports what its socket
 * does (`open`, `receive`, `closed`); the connection calls the handler's hooks so that
 * `open` settles before the first `onMessage`, messages are handled one at a time in order,
 * a throwing hook closes with 1011, and `onClose` runs exactly once.
 */
export class Connection {
  /** 0–3 as in the browser's `WebSocket`. */
  readyState: ReadyState = ReadyState.CONNECTING;
  /** The chosen subprotocol, or `""`. */
  protocol = "";
  /** The live socket, once the adapter has opened the connection. */
  transport: Transport | undefined;
  /** Set by a registry that wants to know when the connection is gone. */
  onClosed: CloseListener | undefined;
  /** The topics of the server this connection belongs to; set by `websocket()` from the runtime. */
  pubsub: PubSub | undefined;
  /** The handler's serialisable per-connection `state`. */
  state: unknown;
  /** The route's params, read from the upgrade request (or restored from a Durable Object's attachment). */
  params: Record<string, string>;
  /** Set by an adapter that keeps `state` and topics outside memory (a Durable Object's attachment). */
  persist: ((connection: Connection) => void) | undefined;
  #topics: Set<string> | undefined;
  /** @internal Something arrived from the peer since the last heartbeat round. */
  alive = true;

  #busy = false;
  #queue: Message[] | undefined;
  #queueHead = 0;
  #closeCode: number = CloseCode.NO_STATUS;
  #closeReason = "";
  #closePending = false;
  #drainWatch: DrainWatch | undefined;
  readonly #rate: MessageRate | undefined;

  #context: Context | undefined;

  /** A connection of `handler`, with its route's `limits`, for the upgrade request `context`. */
  constructor(
    readonly handler: WebSocketHandler,
    readonly limits: Limits,
    context: Context | undefined,
    /** The server's open connections, which this one joins while open. */
    readonly registry?: ConnectionRegistry,
  ) {
    this.#context = context;
    this.params = context ? context.req.param() as Record<string, string> : {};
    if (limits.maxMessagesPerSecond > 0) this.#rate = new MessageRate(limits.maxMessagesPerSecond);
  }

  /**
   * The upgrade request's Hono context, until `open` has returned (or its promise settled): an idle
   * connection then keeps neither the context nor the request, and a handler reads them the same way
   * on every runtime, including in a Durable Object woken from hibernation (which has no request).
   */
  get context(): Context | undefined {
    return this.#context;
  }

  // --- inputs from the adapter ---

  /** The runtime socket is open: runs the handler's `open`. */
  open(transport: Transport): void {
    if (this.readyState !== ReadyState.CONNECTING) return;
    this.transport = transport;
    this.readyState = ReadyState.OPEN;
    this.registry?.add(this);
    if (this.limits.idleTimeout > 0 && transport.ping) watchHeartbeat(this);
    this.#busy = true;
    let result: unknown;
    try {
      result = this.handler.open(this.params);
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

  /**
   * The runtime kept the socket open while the handler was gone (a Durable Object woke from
   * hibernation): the rebuilt connection is open again, without running `open` a second time.
   */
  resume(transport: Transport): void {
    if (this.readyState !== ReadyState.CONNECTING) return;
    this.transport = transport;
    this.readyState = ReadyState.OPEN;
    this.registry?.add(this);
  }

  /** A whole message arrived from the peer. */
  receive(message: Message): void {
    if (this.readyState !== ReadyState.OPEN) return;
    this.alive = true;
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
    const wasOpened = this.readyState !== ReadyState.CONNECTING;
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    this.#dropQueue();
    this.#drainWatch?.release();
    if (!wasOpened) return;
    if (this.#topics?.size) this.pubsub?.leaveAll(this);
    unwatchHeartbeat(this);
    this.#closeCode = code;
    this.#closeReason = reason;
    if (this.#busy) this.#closePending = true;
    else this.#finish();
  }

  /** A pong arrived: the peer is alive. Adapters whose runtime reports pongs call it. */
  pong(): void {
    this.alive = true;
  }

  /** The runtime reports that its send buffer drained (Bun's `drain` event): wakes `drained()`. */
  writable(): void {
    this.#drainWatch?.check();
  }

  // --- actions of the handler ---

  /**
   * Sends a message; throws {@link WebSocketClosedError} once the connection is closing or closed.
   * Returns `false` when the send buffer is above `highWaterMark` (congested: await `drained()`),
   * and closes a slow consumer with 1008 once it is above `maxBufferedAmount` (counting this message,
   * so one message larger than that closes the socket unless the runtime writes it at once).
   * Always `true` where the runtime does not report its buffer.
   */
  send(data: SendData): boolean {
    if (this.readyState !== ReadyState.OPEN) throw new WebSocketClosedError();
    this.transport!.send(data);
    return this.#checkSendBuffer();
  }

  /** After a send: closes a slow consumer (1008); `true` while the buffer is at or below `highWaterMark`. */
  #checkSendBuffer(): boolean {
    const buffered = this.transport!.bufferedAmount;
    if (buffered === undefined) return true;
    const max = this.limits.maxBufferedAmount;
    if (buffered > max && (max > 0 || buffered === Number.POSITIVE_INFINITY)) {
      this.close(CloseCode.POLICY_VIOLATION, SLOW_CONSUMER_REASON);
      return false;
    }
    return buffered <= this.limits.highWaterMark;
  }

  /** Bytes waiting in the runtime's send buffer; `0` where the runtime does not report it. */
  get bufferedAmount(): number {
    return this.transport?.bufferedAmount ?? 0;
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
    return this.readyState !== ReadyState.OPEN || this.bufferedAmount <= this.limits.highWaterMark;
  }

  /** Starts the closing handshake; `onClose` runs when the runtime reports the socket closed. */
  close(code: number = CloseCode.NORMAL, reason = ""): void {
    assertSendableClose(code, reason);
    if (this.readyState !== ReadyState.OPEN) return;
    this.readyState = ReadyState.CLOSING;
    this.#dropQueue();
    this.#drainWatch?.release();
    try {
      this.transport!.close(code, reason);
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * Drops the connection without a closing handshake (a dead peer, or shutdown's deadline) where
   * the runtime can (`ws`, Bun); elsewhere does nothing. `onClose` runs when the runtime reports it closed.
   */
  terminate(): void {
    const transport = this.transport;
    if (!transport?.terminate || this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSING;
    this.#dropQueue();
    this.#drainWatch?.release();
    try {
      transport.terminate();
    } catch (error) {
      this.#report(error);
    }
  }

  /** Reports `error` to `onError` and closes the connection with 1011. */
  fail(error: unknown): void {
    this.#report(error);
    this.close(CloseCode.INTERNAL_ERROR, "internal error");
  }

  // --- pub/sub ---

  /** The topics this connection is subscribed to; the {@link PubSub} keeps it. */
  joinedTopics(): Set<string> {
    return (this.#topics ??= new Set());
  }

  /** Called by the {@link PubSub} after a subscribe or unsubscribe. */
  topicsChanged(): void {
    this.persist?.(this);
  }

  /**
   * Sends a publication, with the same slow-consumer limit as `send`: never throws, since a socket
   * closing under a publisher must not stop the others.
   */
  deliver(data: SendData): void {
    try {
      this.transport!.send(data);
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
    if (isPromiseLike(result)) {
      // Made on the first async hook only: a connection whose hooks are all sync keeps no closures.
      this.#onSettled ??= () => this.#settled();
      this.#onFailed ??= (error) => this.#failed(error);
      result.then(this.#onSettled, this.#onFailed);
    } else if (this.#closePending) this.#settled();
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
    while (!this.#busy && queue && this.#queueHead < queue.length && this.readyState === ReadyState.OPEN) {
      const message = queue[this.#queueHead]!;
      queue[this.#queueHead++] = undefined!;
      this.#deliver(message);
    }
    if (queue && this.#queueHead === queue.length) this.#dropQueue();
    if (!this.#busy && this.#closePending) {
      this.#closePending = false;
      this.#finish();
    }
  }

  #dropQueue(): void {
    this.#queue = undefined;
    this.#queueHead = 0;
  }

  #finish(): void {
    try {
      const result = this.handler.onClose(this.#closeCode, this.#closeReason);
      if (isPromiseLike(result)) result.then(undefined, (error) => this.#report(error));
    } catch (error) {
      this.#report(error);
    }
    this.registry?.delete(this);
    this.onClosed?.(this);
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
