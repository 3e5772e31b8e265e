/**
 * `EdgeSocket`: a drop-in for the browser's `WebSocket` that reconnects by itself. One state machine (`#phase`)
 * drives it: `waiting` (a retry is scheduled) → `resolving` (the URL and protocols providers run) → `connecting`
 * (a socket exists) → `open` → back to `waiting`, or to `closing` and `closed` for good.
 * @module
 */
import { type BackoffOptions, retryDelay } from "./backoff.ts";
import {
  EdgeSocketCloseEvent,
  EdgeSocketErrorEvent,
  type EdgeSocketOpenEvent,
  InvalidMessageEvent,
  ReconnectingEvent,
} from "./events.ts";
import { control, escape, PLAIN_PROTOCOL, readFrame, RESUME_LATER, RESUME_PROTOCOL } from "../protocol/resume.ts";
import { type CloseInfo, defaultShouldReconnect, statusOf } from "./policy.ts";
import { decode, type MessageSchema } from "./schema.ts";

/** A value, or a function that returns it or a promise of it: called before every attempt. */
export type Provider<T> = T | (() => T | Promise<T>);

/** What `send` takes: what the browser's `WebSocket.send` takes. */
export type SendData = string | ArrayBufferLike | Blob | ArrayBufferView;

/** The part of a `WebSocket` the client drives: the browser's, Deno's, Bun's, workerd's, or `ws`'s on Node. */
export interface WebSocketLike {
  /** 0–3. */
  readonly readyState: number;
  /** The chosen subprotocol. */
  readonly protocol: string;
  /** The negotiated extensions. */
  readonly extensions?: string;
  /** The URL. */
  readonly url: string;
  /** Bytes waiting to be sent. */
  readonly bufferedAmount: number;
  /** How binary messages arrive. */
  binaryType: string;
  /** Sends a message. */
  send(data: never): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Listens to `open`, `message`, `close` and `error`. */
  addEventListener(type: "open" | "message" | "close" | "error", listener: { handleEvent(event: never): void }): void;
}

/** A `WebSocket` constructor: the global one, or `ws`'s on Node 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The options of {@link EdgeSocket}. Every delay is in ms. */
export interface EdgeSocketOptions<T = unknown> extends Partial<BackoffOptions> {
  /** A connection must stay open this long before the retry count resets. Default 5000. */
  minUptime?: number;
  /** An attempt not open after this long is abandoned and counts as a failure. Default 4000. */
  connectionTimeout?: number;
  /** Consecutive retries before the client gives up (and closes for good). Default `Infinity`. */
  maxRetries?: number;
  /** Messages `send` keeps while not open, flushed in order on open; past it `send` throws. Default 1000. */
  maxQueued?: number;
  /** Do not connect until `reconnect()`. Default false. */
  startClosed?: boolean;
  /** The `WebSocket` constructor. Default: the global one (Node 20 has none: pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
  /**
   * Decides whether to retry after a connection ended. Default {@link defaultShouldReconnect}: stop on 1008,
   * 4000–4099 and refused handshakes with a 4xx status other than 408 and 429; retry everything else.
   */
  shouldReconnect?: (info: CloseInfo) => boolean;
  /**
   * Resume the session where the server offers it (a route with `resume`): after a drop, the same handler, and
   * what either side missed, exactly once and in order (docs/resume.md). Default `true`: the client offers
   * edgesocket's subprotocols, which every edgesocket route answers. `false` connects as a plain `WebSocket`
   * would: needed for a server that is not edgesocket's, since browsers, Bun and `ws` fail a handshake whose
   * offered subprotocols the server ignores.
   */
  resume?: boolean;
  /**
   * A Standard Schema for incoming messages: each is parsed as JSON and checked; `event.data` of `message` is the
   * schema's output, and a message that fails fires `invalidmessage` instead.
   */
  schema?: MessageSchema<T>;
}

/** The close code with which the client leaves a server that broke the resume protocol (browsers cannot send 1002). */
const PROTOCOL_VIOLATION = 4002;

type Phase = "waiting" | "resolving" | "connecting" | "open" | "closing" | "closed";

/** The events of an {@link EdgeSocket}, by type. */
export interface EdgeSocketEventMap<T> {
  /** A connection opened (after the queue was flushed); `resumed` says whether it continues the last session. */
  open: EdgeSocketOpenEvent;
  /** A message; `data` is the schema's output when there is a schema. */
  message: MessageEvent<T>;
  /** A connection ended. */
  close: EdgeSocketCloseEvent;
  /** The runtime reported an error. */
  error: EdgeSocketErrorEvent;
  /** The next attempt is scheduled. */
  reconnecting: ReconnectingEvent;
  /** A message failed the schema. */
  invalidmessage: InvalidMessageEvent;
}

const DEFAULTS = {
  minDelay: 1000,
  maxDelay: 10_000,
  growFactor: 1.3,
  jitter: 0.5,
  minUptime: 5000,
  connectionTimeout: 4000,
  maxRetries: Infinity,
  maxQueued: 1000,
};

/**
 * A WebSocket that reconnects by itself, with backoff and jitter, and queues what is sent while it is not open.
 *
 * @example
 * ```ts
 * const socket = new EdgeSocket(() => `wss://example.com/ws?token=${await getToken()}`);
 * socket.addEventListener("message", (event) => console.log(event.data));
 * socket.addEventListener("reconnecting", (event) => console.log(`retry ${event.attempt} in ${event.delay} ms`));
 * socket.send("hello"); // queued until open
 * ```
 */
// deno-lint-ignore no-explicit-any -- without a schema, `data` is what the runtime delivers, as for WebSocket
export class EdgeSocket<T = any> extends EventTarget {
  /** The connection is not open yet (an attempt is running or scheduled). */
  static readonly CONNECTING = 0;
  /** The connection is open. */
  static readonly OPEN = 1;
  /** `close()` was called; the connection is closing. */
  static readonly CLOSING = 2;
  /** Closed for good (by `close()`, by the server's "do not come back", or after `maxRetries`). */
  static readonly CLOSED = 3;
  /** 0. */
  readonly CONNECTING = 0;
  /** 1. */
  readonly OPEN = 1;
  /** 2. */
  readonly CLOSING = 2;
  /** 3. */
  readonly CLOSED = 3;

  /** Called on `open`, before the listeners. */
  onopen: ((event: EdgeSocketOpenEvent) => void) | null = null;
  /** Called on `message`, before the listeners. */
  onmessage: ((event: MessageEvent<T>) => void) | null = null;
  /** Called on `close`, before the listeners. */
  onclose: ((event: EdgeSocketCloseEvent) => void) | null = null;
  /** Called on `error`, before the listeners. */
  onerror: ((event: EdgeSocketErrorEvent) => void) | null = null;
  /** Called on `reconnecting`, before the listeners. */
  onreconnecting: ((event: ReconnectingEvent) => void) | null = null;
  /** Called on `invalidmessage`, before the listeners. */
  oninvalidmessage: ((event: InvalidMessageEvent) => void) | null = null;

  #retryCount = 0;
  #lastClose: CloseInfo | undefined;
  #nextAttemptAt: number | undefined;

  /** The number of the current or next retry since the last stable connection (0: none yet). */
  get retryCount(): number {
    return this.#retryCount;
  }

  /** How the last connection ended (`undefined` before the first end). */
  get lastClose(): CloseInfo | undefined {
    return this.#lastClose;
  }

  /** When the next attempt starts (`Date.now()` time), while one is scheduled. */
  get nextAttemptAt(): number | undefined {
    return this.#nextAttemptAt;
  }

  #url: Provider<string>;
  #protocols: Provider<string | string[] | undefined>;
  #options: typeof DEFAULTS & EdgeSocketOptions<T>;
  #WebSocket: WebSocketConstructor;
  #phase: Phase = "closed";
  #socket: WebSocketLike | undefined;
  #lastURL = "";
  #opened = false;
  #status: number | undefined;
  /** Backoff steps since the last stable connection: an attempt that never opened counts two. */
  #steps = 0;
  /** Incremented whenever an attempt in flight must be forgotten. */
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #uptimeTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * What waits: on a plain connection, what was sent while not open; in a session, also what was sent and not yet
   * confirmed by the server (the first `#inFlight` messages, numbered up to `#sent`).
   */
  #queue: SendData[] = [];
  #binaryType: string | undefined;
  #inbox: Promise<void> = Promise.resolve();
  // The resumable session (docs/resume.md), once a server that offers resume has welcomed this client.
  /** The session id: a capability, kept in memory only. */
  #sessionId: string | undefined;
  /** The current socket speaks the resume protocol (the server chose it). */
  #resuming = false;
  /** Messages received from the server in the session, and how many of them the server was told about. */
  #received = 0;
  #acknowledged = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #sent = 0;
  #inFlight = 0;

  /**
   * Starts connecting at once (unless `startClosed`).
   * @param url The server's URL, or a function returning it (or a promise of it), called before every attempt.
   * @param protocols The subprotocols to offer, likewise.
   * @param options See {@link EdgeSocketOptions}.
   */
  constructor(
    url: Provider<string>,
    protocols?: Provider<string | string[] | undefined>,
    options: EdgeSocketOptions<T> = {},
  ) {
    super();
    this.#url = url;
    this.#protocols = protocols;
    this.#options = { ...DEFAULTS, ...options };
    const { minDelay, maxDelay, growFactor, jitter } = this.#options;
    if (!(minDelay >= 0 && maxDelay >= minDelay && growFactor >= 1 && jitter >= 0 && jitter <= 1)) {
      throw new RangeError("EdgeSocket: needs 0 <= minDelay <= maxDelay, growFactor >= 1, 0 <= jitter <= 1");
    }
    const WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!WebSocket) throw new TypeError('EdgeSocket: no global WebSocket here; pass one, e.g. from "ws"');
    this.#WebSocket = WebSocket;
    if (!options.startClosed) this.#connect();
  }

  /** 0–3, as the browser's `WebSocket`: `CONNECTING` while an attempt is running or scheduled. */
  get readyState(): number {
    return { waiting: 0, resolving: 0, connecting: 0, open: 1, closing: 2, closed: 3 }[this.#phase];
  }

  /** The URL of the current (or last) connection. */
  get url(): string {
    return this.#socket?.url ?? this.#lastURL;
  }

  /** The subprotocol the server chose (`""` if none or not open; edgesocket's own are not shown). */
  get protocol(): string {
    const protocol = this.#socket?.protocol ?? "";
    return protocol.startsWith("edgesocket.") ? "" : protocol;
  }

  /** The extensions the server chose. */
  get extensions(): string {
    return this.#socket?.extensions ?? "";
  }

  /** On a resumable session: how many messages sent are not yet confirmed by the server (kept to send again). */
  get unconfirmed(): number {
    return this.#sessionId === undefined ? 0 : this.#queue.length;
  }

  /** Bytes waiting: the socket's send buffer plus the messages queued while not open. */
  get bufferedAmount(): number {
    return this.#queue.reduce(
      (sum, data) => sum + new Blob([data as BlobPart]).size,
      this.#socket?.bufferedAmount ?? 0,
    );
  }

  /** How binary messages arrive: kept across reconnects (the runtime's default until set). */
  get binaryType(): string {
    return this.#binaryType ?? this.#socket?.binaryType ?? "blob";
  }

  set binaryType(value: string) {
    this.#binaryType = value;
    if (this.#socket) this.#socket.binaryType = value;
  }

  /**
   * Sends `data` if open; otherwise queues it, to be sent in order on the next open.
   * @throws Error once closed for good, or when `maxQueued` messages are already waiting.
   */
  send(data: SendData): void {
    // A socket the server is closing is still "open" here until its close event: what is sent then waits too.
    const open = this.#phase === "open" && this.#socket!.readyState === 1;
    if (open && this.#sessionId === undefined) return this.#socket!.send(data as never);
    if (this.#phase === "closing" || this.#phase === "closed") {
      throw new Error("EdgeSocket is closed: call reconnect() to connect again");
    }
    if (!open && this.#queue.length >= this.#options.maxQueued) {
      throw new Error(`EdgeSocket: ${this.#queue.length} messages already wait for the connection (maxQueued)`);
    }
    // In a session, a message is kept until the server confirms it, and sent again on the next socket if needed.
    this.#queue.push(data);
    if (open) {
      this.#sent++;
      this.#inFlight++;
      this.#socket!.send(escape(data) as never);
    }
  }

  /** Closes for good (no more retries) with `code` (default 1000). Queued messages stay until `reconnect()`. */
  close(code?: number, reason?: string): void {
    this.#socket?.close(code, reason); // first: an invalid code throws, as WebSocket.close does, and changes nothing
    this.#stop();
    this.#forgetSession();
    if (this.#socket) this.#phase = "closing";
    else if (this.#phase !== "closed") {
      this.#phase = "closed";
      this.#emit(
        new EdgeSocketCloseEvent({ code: code ?? 1000, reason: reason ?? "", wasClean: true, opened: false }, false),
      );
    }
  }

  /**
   * Closes the current connection (if any) with `code` and connects again at once, with the retry count reset.
   * Without a `code`, a resumable session continues on the new connection.
   */
  reconnect(code?: number, reason?: string): void {
    const wasOpen = this.#phase === "open";
    this.#socket?.close(code ?? (this.#resuming ? RESUME_LATER : undefined), reason);
    if (code !== undefined) this.#forgetSession();
    this.#stop();
    this.#socket = undefined;
    this.#retryCount = this.#steps = 0;
    if (wasOpen) {
      this.#emit(
        new EdgeSocketCloseEvent({ code: code ?? 1000, reason: reason ?? "", wasClean: true, opened: true }, true),
      );
    }
    this.#connect();
  }

  /** Forgets the attempt in flight and every timer. */
  #stop(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    clearTimeout(this.#uptimeTimer);
    // An acknowledgement due on the socket left behind must not go out on the next one (the hello carries it).
    this.#stopAcknowledging();
    this.#nextAttemptAt = undefined;
  }

  #connect(): void {
    const generation = ++this.#generation;
    this.#phase = "resolving";
    this.#opened = false;
    this.#resuming = false;
    this.#status = undefined;
    Promise.all([resolve(this.#url), resolve(this.#protocols)]).then(([url, protocols]) => {
      if (generation === this.#generation) this.#open(url, this.#withResume(protocols));
    }, (error) => {
      if (generation === this.#generation) this.#ended(1006, `no URL: ${error}`, false);
    });
  }

  /** The protocols to offer: the caller's, and the resume protocol unless `resume: false`. */
  #withResume(protocols: string | string[] | undefined): string | string[] | undefined {
    if (this.#options.resume === false) return protocols;
    return [protocols ?? [], RESUME_PROTOCOL, PLAIN_PROTOCOL].flat();
  }

  #open(url: string, protocols: string | string[] | undefined): void {
    this.#lastURL = url;
    let socket: WebSocketLike;
    try {
      socket = protocols === undefined ? new this.#WebSocket(url) : new this.#WebSocket(url, protocols);
    } catch (error) {
      // e.g. a URL the constructor refuses: a failed attempt, retried like any other
      return this.#ended(1006, `no connection: ${error}`, false);
    }
    if (this.#binaryType) socket.binaryType = this.#binaryType;
    for (const type of ["open", "message", "close", "error"] as const) socket.addEventListener(type, this);
    this.#socket = socket;
    this.#phase = "connecting";
    this.#timer = setTimeout(() => {
      this.#socket = undefined;
      socket.close(this.#resuming ? RESUME_LATER : undefined);
      this.#ended(1006, "connection timeout", false);
    }, this.#options.connectionTimeout);
  }

  /** The sockets' events (`EventListenerObject`); those of a socket already abandoned are ignored. */
  handleEvent(event: Event): void {
    if (event.target !== (this.#socket as unknown)) return;
    if (event.type === "open") {
      if (this.#phase !== "connecting") return; // not after close() was called meanwhile
      this.#resuming = this.#socket!.protocol === RESUME_PROTOCOL;
      if (this.#resuming) this.#socket!.send(control("h", this.#received, this.#sessionId ?? "") as never);
      // A server that no longer resumes (redeployed without it) ends the session as a new one would.
      else this.#onOpen(false, this.#forgetSession());
    } else if (event.type === "message") {
      if (this.#resuming) this.#onFrame((event as MessageEvent).data);
      else this.#onMessage((event as MessageEvent).data);
    } else if (event.type === "error") {
      const message = String((event as ErrorEvent).message ?? "");
      this.#status ??= statusOf(message);
      this.#emit(new EdgeSocketErrorEvent(message));
    } else {
      const { code, reason, wasClean } = event as CloseEvent;
      this.#socket = undefined;
      // Deno reports 0 for a connection that dropped: 1006, as everywhere else.
      this.#ended(code > 999 ? code : 1006, reason, wasClean);
    }
  }

  /** A frame of a resumable session: the server's welcome and acknowledgements, or a data message. */
  #onFrame(data: unknown): void {
    const frame = readFrame(data);
    if (!Array.isArray(frame)) {
      // Acknowledged after 64 messages, or 100 ms after the first one not acknowledged.
      if (++this.#received - this.#acknowledged >= 64) this.#acknowledge();
      else this.#ackTimer ??= setTimeout(() => this.#acknowledge(), 100);
      this.#onMessage(frame);
    } else if (frame[0] === "a") this.#confirmed(frame[1]!);
    else if (frame[0] === "w" && this.#phase === "connecting") this.#welcome(frame);
    else this.#socket!.close(PROTOCOL_VIOLATION, "unexpected frame");
  }

  /**
   * The server's welcome: on a resumed session, sends again what the server did not receive; on a new one, starts
   * counting afresh, and tells what the previous session never confirmed.
   */
  #welcome([, received, resumed, id]: string[]): void {
    this.#acknowledged = this.#received;
    let unconfirmed: SendData[] = [];
    if (resumed === "1") this.#confirmed(received!);
    else {
      unconfirmed = this.#forgetSession();
      this.#sessionId = id;
    }
    this.#onOpen(resumed === "1", unconfirmed);
  }

  /** The server confirmed `received` of the client's messages. */
  #confirmed(received: string): void {
    const count = Math.min(Number(received), this.#sent) - this.#sent + this.#inFlight;
    if (count > 0) this.#inFlight -= this.#queue.splice(0, count).length;
  }

  /** Leaves the session: returns what it sent and the server never confirmed, which is dropped. */
  #forgetSession(): SendData[] {
    this.#sessionId = undefined;
    this.#sent = this.#received = this.#acknowledged = 0;
    const unconfirmed = this.#queue.splice(0, this.#inFlight);
    this.#inFlight = 0;
    return unconfirmed;
  }

  #acknowledge(): void {
    this.#stopAcknowledging();
    this.#acknowledged = this.#received;
    this.#socket?.send(control("a", this.#received) as never);
  }

  #stopAcknowledging(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  #onOpen(resumed = false, unconfirmed: SendData[] = []): void {
    clearTimeout(this.#timer);
    this.#phase = "open";
    this.#opened = true;
    this.#lastClose = this.#nextAttemptAt = undefined;
    this.#uptimeTimer = setTimeout(() => (this.#retryCount = this.#steps = 0), this.#options.minUptime);
    // Sent now: what waited, and in a resumed session what the server had not received.
    for (const data of this.#queue) this.#socket!.send((this.#resuming ? escape(data) : data) as never);
    if (!this.#resuming) this.#queue = [];
    this.#sent += this.#queue.length - this.#inFlight;
    this.#inFlight = this.#queue.length;
    this.#emit(Object.assign(new Event("open"), { resumed, unconfirmed }));
  }

  #onMessage(data: unknown): void {
    const { schema } = this.#options;
    if (!schema) return this.#emit(new MessageEvent("message", { data }));
    // In order, even when the schema validates asynchronously.
    this.#inbox = this.#inbox.then(async () => {
      const result = await decode(schema, data).catch((error) => ({
        issues: [{ message: `the schema threw: ${error}` }],
      }));
      this.#emit(
        result.issues
          ? new InvalidMessageEvent(data, result.issues)
          : new MessageEvent("message", { data: result.value }),
      );
    });
  }

  /** A connection or attempt ended: retry after a delay, or close for good. */
  #ended(code: number, reason: string, wasClean: boolean): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#uptimeTimer);
    this.#stopAcknowledging();
    const info: CloseInfo = { code, reason, wasClean, opened: this.#opened, status: this.#status };
    this.#lastClose = info;
    const { maxRetries, shouldReconnect = defaultShouldReconnect } = this.#options;
    const retry = this.#phase !== "closing" && this.#retryCount < maxRetries && shouldReconnect(info);
    this.#phase = retry ? "waiting" : "closed";
    this.#emit(new EdgeSocketCloseEvent(info, retry));
    if (retry && this.#phase === "waiting") this.#schedule(info);
  }

  #schedule(info: CloseInfo): void {
    this.#steps += info.opened ? 1 : 2;
    const delay = retryDelay(this.#steps, this.#options);
    const attempt = ++this.#retryCount;
    this.#nextAttemptAt = Date.now() + delay;
    this.#timer = setTimeout(() => this.#connect(), delay);
    this.#emit(new ReconnectingEvent(attempt, delay, this.#nextAttemptAt, info));
  }

  /** Calls `on<type>`, then the listeners; a throwing `on<type>` is reported without breaking the client. */
  #emit(event: Event): void {
    try {
      (this as unknown as Record<string, ((event: Event) => void) | null>)[`on${event.type}`]?.call(this, event);
    } catch (error) {
      setTimeout(() => {
        throw error;
      });
    }
    this.dispatchEvent(event);
  }
}

/** The typed listeners of an {@link EdgeSocket}'s events. */
export interface EdgeSocket<T> {
  /** Listens to one of the {@link EdgeSocketEventMap} events, typed. */
  addEventListener<K extends keyof EdgeSocketEventMap<T>>(
    type: K,
    listener: (event: EdgeSocketEventMap<T>[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Any other event. */
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Removes a listener. */
  removeEventListener<K extends keyof EdgeSocketEventMap<T>>(
    type: K,
    listener: (event: EdgeSocketEventMap<T>[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Any other event. */
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

function resolve<V>(provider: Provider<V>): Promise<V> {
  return Promise.resolve(typeof provider === "function" ? (provider as () => V | Promise<V>)() : provider);
}
