import { acknowledgement, control, escape, readFrame, RESUME_LATER, RESUME_PROTOCOL } from "../protocol/resume.ts";
import { CloseCode } from "./constants.ts";
import { HEARTBEAT_SLOT } from "./heartbeat.ts";
import { SESSION_MOVE_CLOSE } from "./shutdown.ts";
import type { Connection, SocketEvents, Transport } from "./connection.ts";
import type { Message, SendData } from "./message.ts";
import type { Limits, ResumeLimits } from "./options.ts";
import type { Runtime } from "./runtime.ts";
import type { MovedSession, SessionEngine } from "./session-engine.ts";

/** The close reason of a session whose replay buffer reached `maxMessages` or `maxBytes`. */
export const REPLAY_FULL_REASON = "session ended: replay buffer full";
/** The reason `onClose` gets when a dropped session was not resumed within its window. */
export const SESSION_EXPIRED_REASON = "session expired: not resumed within the window";
/**
 * The close reason of a socket whose hello would start a session while the server has `maxConnections` open
 * (a hello that resumes one is served: it adds no connection).
 */
export const TOO_MANY_CONNECTIONS_REASON = "too many connections";
/** Why a `hello` asking for a session did not resume it. */
export const NOT_FOUND_REASON = "session not found: expired, ended or unknown";

/** A side acknowledges after this many messages, or {@link ACK_DELAY_MS} after the first unacknowledged one. */
const ACK_EVERY = 64;
const ACK_DELAY_MS = 100;
/** The second character of an acknowledgement frame, `\0a<received>`. */
const ACK_CODE = "a".charCodeAt(0);
/** How long a new socket may take to send its `hello`. */
const HELLO_TIMEOUT_MS = 10_000;
/** 144 random bits, base64url: 24 characters. */
const SESSION_ID_BYTES = 18;

/** Where a session is in its life: see {@link Session}. */
export type SessionPhase = "attached" | "detached" | "ended";

/**
 * Where a runtime keeps its sessions outside memory, so that a session outlives the object or process that holds
 * it (a Durable Object's storage; a shared store such as Redis). The {@link SessionStore} that has one calls it as
 * each session changes, synchronously; a journal may batch its writes (e.g. until the end of the current event).
 * What it saved comes back through {@link Session.restore}. Without a journal, sessions live in memory only.
 */
export interface SessionJournal {
  /** A new session: its connection opens right after. */
  started(session: Session): void;
  /** The session sent its message number `session.sentCount`, `data`: keep it until the client confirms it. */
  sent(session: Session, data: SendData): void;
  /** The client confirmed messages: only the last `session.pending` of the `session.sentCount` remain to keep. */
  confirmed(session: Session): void;
  /** The session received its message number `session.receivedCount` from the client. */
  received(session: Session): void;
  /** The session's socket dropped: the session waits for its client until `session.deadline`. */
  detached(session: Session): void;
  /** A socket carries the session (again): `session.link`. */
  attached(session: Session): void;
  /**
   * The session ended: forget it. A journal shared by several servers (a {@link SessionEngine}) returns whether
   * this server still held the session: `onClose` runs here once it resolves `true` (or fails), and not at all when
   * another server took the session meanwhile. Otherwise `onClose` runs at once.
   */
  ended(session: Session): void | Promise<boolean>;
  /**
   * The handler's `state` or topics changed. Called through the runtime's `persist` when the runtime has none of
   * its own (an adapter that has one, a Durable Object's, saves them itself).
   */
  changed?(session: Session): void;
  /**
   * True when the journal ends each detached session at its deadline itself, by calling `session.expire()` (from
   * a Durable Object's alarm, say), so that the session sets no timer of its own.
   */
  readonly expires?: boolean;
  /**
   * True when the journal acknowledges what the client sent itself, by calling `session.acknowledge()` once it has
   * saved the session's count of received messages (soon after each message: a Durable Object's within a second),
   * so that the client never drops a message the journal could still lose. The session sends none of its own.
   */
  readonly acknowledges?: boolean;
}

/** What a journal keeps of a session besides its handler and its replay buffer: see {@link Session.restore}. */
export interface SavedSession {
  /** The session id. */
  id: string;
  /** The route it belongs to. */
  route: string;
  /** Messages sent to the client in the session. */
  sent: number;
  /** Messages received from the client in the session. */
  received: number;
  /** When a detached session ends (ms since the epoch); absent for a session that had a socket when saved. */
  deadline?: number;
}

/**
 * One resumable session: the transport of its handler's {@link Connection} for the session's whole life, across
 * the sockets ({@link SessionLink}s) that carry it. It counts what each side sent, keeps what the client has not
 * confirmed for replay, and owns the session's state machine: `attached` (a socket carries it) ⇄ `detached` (the
 * socket dropped; the window runs) → `ended` (closed on purpose, window over, or replay buffer full).
 */
export class Session implements Transport {
  #phase: SessionPhase = "attached";
  #connection: Connection;
  #link: SessionLink | undefined;
  /** The runtime socket of `#link`: the message path reads it without going through the link. */
  #socket: Transport | undefined;
  /** The store's journal, read on every message. */
  readonly #journal: SessionJournal | undefined;
  /** While detached: when the window ends (ms since the epoch). */
  #deadline: number | undefined;
  /** The server closed the session on purpose: the next socket close ends it. */
  #closing = false;
  /** Messages sent to the client in this session, and those received from it. */
  #sent = 0;
  #received = 0;
  #receivedAcknowledged = 0;
  /** What the client has not confirmed: the messages numbered `#sent - pending + 1` to `#sent`. */
  readonly #replay: ReplayBuffer;
  /**
   * While attached: when to acknowledge what was received, and to free the replay buffer's room if it stayed empty
   * (see {@link Session.#late}).
   */
  #lateTimer: ReturnType<typeof setTimeout> | undefined;
  #windowTimer: ReturnType<typeof setTimeout> | undefined;

  /** A new session `id` of `route` on `connection`, which `link` carries first; it joins `store`. */
  constructor(
    /** The session id: a capability (never log it). */
    readonly id: string,
    /** The handler's connection, opened on this session. */
    connection: Connection,
    /** The route it belongs to: a session resumes only through the same route. */
    readonly route: string,
    /** The route's resume limits. */
    readonly limits: ResumeLimits,
    /** The store the session is in (and its journal, if any). */
    readonly store: SessionStore,
    link: SessionLink | undefined,
  ) {
    this.#connection = connection;
    this.#replay = new ReplayBuffer(limits);
    this.#journal = store.journal;
    this.#setLink(link);
  }

  /**
   * The one restore path of a session that outlived its memory (a Durable Object evicted or woken from
   * hibernation): the counts and the replay buffer a journal saved, and the handler's connection that `connect`
   * rebuilds on the session (`Connection.restore`, with the session as its transport). The session comes back
   * detached and joins `store`: a socket that still carries it rejoins it with {@link SessionLink.rejoin}; one
   * saved with a socket that none rejoins is detached by {@link Session.lostLink}. Runs no hook.
   */
  static restore(
    saved: SavedSession,
    limits: ResumeLimits,
    store: SessionStore,
    replay: Iterable<SendData>,
    connect: (session: Session) => Connection,
  ): Session {
    const session = new Session(saved.id, undefined!, saved.route, limits, store, undefined);
    session.#phase = "detached";
    session.#sent = saved.sent;
    session.#received = session.#receivedAcknowledged = saved.received;
    // What a journal saved was within the caps then; a buffer over them now overflows on the session's next send.
    for (const data of replay) session.#replay.push(data);
    session.#connection = connect(session);
    store.add(session);
    if (saved.deadline !== undefined) session.#startWindow(saved.deadline);
    return session;
  }

  /** A session keeps what it sends for replay. */
  get replays(): boolean {
    return true;
  }

  /** The handler's connection, opened on this session. */
  get connection(): Connection {
    return this.#connection;
  }

  /** `attached`, `detached` or `ended`. */
  get phase(): SessionPhase {
    return this.#phase;
  }

  /** The socket that carries the session now, if any. */
  get link(): SessionLink | undefined {
    return this.#link;
  }

  /** How many messages wait for the client's confirmation. */
  get pending(): number {
    return this.#replay.length;
  }

  /** How many messages were sent to the client in this session. */
  get sentCount(): number {
    return this.#sent;
  }

  /** How many messages were received from the client in this session. */
  get receivedCount(): number {
    return this.#received;
  }

  /** While detached: when the session ends unless its client comes back (ms since the epoch). */
  get deadline(): number | undefined {
    return this.#deadline;
  }

  /**
   * Diagnostic, for tests and measurements: the slots the replay buffer's array holds, used or not (the room an
   * emptied buffer keeps until the session's next late timer finds it still empty).
   */
  get replayRoom(): number {
    return this.#replay.room;
  }

  /** The messages kept for the client, oldest first: those numbered `sentCount - pending + 1` to `sentCount`. */
  unconfirmed(): Iterable<SendData> {
    return this.#replay;
  }

  // --- the connection's transport ---

  send(data: SendData): void {
    if (this.#phase === "ended") return;
    this.#sent++;
    if (!this.#replay.push(data)) {
      this.#overflow();
      return;
    }
    this.#journal?.sent(this, data);
    // Straight to the socket, not through the link: on Bun's JIT every call on the message path counts (measured:
    // docs/performance.md, "Resume").
    const socket = this.#socket;
    if (socket === undefined) return;
    try {
      socket.send(escape(data));
    } catch {
      // the socket is closing: its close event detaches the session
    }
  }

  /** The socket's send buffer; while detached, the bytes kept for the client (so that `drained()` waits for it). */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return socket ? socket.bufferedAmount ?? 0 : this.#replay.bytes;
  }

  close(code?: number, reason?: string): void {
    this.#closing = true;
    if (this.#link) this.#link.closeSocket(code, reason);
    else this.#end(code ?? CloseCode.NORMAL, reason ?? "");
  }

  terminate(): void {
    this.#closing = true;
    if (this.#link) this.#link.terminate();
    else this.#end(CloseCode.ABNORMAL, "");
  }

  // --- from its links ---

  /** A data message from the client. */
  received(message: Message): void {
    const unacknowledged = ++this.#received - this.#receivedAcknowledged;
    const journal = this.#journal;
    journal?.received(this);
    this.connection.receive(message);
    if (journal?.acknowledges) return;
    if (unacknowledged >= ACK_EVERY) this.#acknowledge();
    // The timer is left running by an acknowledgement (one timer per 64 messages cost more than the counting):
    // when it fires it acknowledges what came since, if anything, so that none waits longer than ACK_DELAY_MS.
    else this.#lateSoon();
  }

  /** The client confirmed `received` of the server's messages: they need no replay. */
  confirmed(received: number): boolean {
    const first = this.#sent - this.#replay.length;
    if (received < first || received > this.#sent) return false;
    if (received === first) return true;
    this.#replay.drop(received - first);
    // An emptied buffer keeps its room for the next messages; the timer frees it if it finds the buffer still empty.
    if (this.#replay.length === 0) this.#lateSoon();
    this.#journal?.confirmed(this);
    return true;
  }

  /**
   * A new socket's `hello` asks for this session: replays what the client missed on `link` and attaches it.
   * Returns why it cannot (then the client gets a new session).
   */
  resume(link: SessionLink, clientReceived: number): string | undefined {
    // A window whose timer (or alarm) is late is over all the same.
    if (this.#deadline !== undefined && Date.now() >= this.#deadline) this.expire();
    if (this.#phase === "ended" || this.#closing) return NOT_FOUND_REASON;
    if (!this.confirmed(clientReceived)) return "session counts do not match";
    const previous = this.#link;
    this.#attach(link);
    this.#receivedAcknowledged = this.#received;
    link.sendControl(control("w", this.#received, 1, this.id));
    for (const data of this.#replay) link.send(data);
    if (previous) {
      // A socket the server had not yet seen drop: the client has moved on from it.
      previous.abandon();
      return undefined;
    }
    this.connection.notify("onResume");
    return undefined;
  }

  /**
   * A socket that carried the session before its memory was lost carries it again: no replay, no hook, nothing for
   * the journal (which saved it so). Only a session restored as it was then (saved with a socket, none rejoined
   * yet, not yet {@link Session.lostLink}).
   */
  rejoin(link: SessionLink): boolean {
    if (this.#phase !== "detached" || this.#deadline !== undefined || this.#link) return false;
    this.#attach(link, false);
    return true;
  }

  /**
   * After a restore: a session that had a socket when saved, and that no socket rejoined (it closed while the
   * memory was lost), is detached as if that socket had dropped.
   */
  lostLink(): void {
    if (this.#phase === "detached" && this.#deadline === undefined) this.#detach();
  }

  /**
   * Acknowledges to the client every message received so far, if any is not yet (for a journal that
   * {@link SessionJournal.acknowledges}).
   */
  acknowledge(): void {
    if (this.#received > this.#receivedAcknowledged && this.#link) this.#acknowledge();
  }

  /** The state or topics of the session's connection changed (the runtime's `persist`). */
  changed(): void {
    if (this.#phase !== "ended") this.#journal?.changed?.(this);
  }

  /**
   * Gives the session up to another server (asked through its engine), which rebuilds it from what this returns
   * ({@link SessionStore.adopt}): its socket, if any, is closed (and `onDisconnect` runs), and its connection is
   * closed without `onClose`; the journal is not told (the engine moves it). Returns `undefined`, and keeps the
   * session, detached, while a hook of its handler runs or messages wait for one, or while the server closes it:
   * asked again once the hook settled, it can go. Not for an ended session.
   */
  handOver(): MovedSession | undefined {
    if (this.#closing) return undefined; // ends once its socket closes
    this.#leaveSocket();
    if (!this.connection.idle || this.#phase === "ended") return undefined;
    const { protocol, params, state, topics } = this.connection;
    const moved: MovedSession = {
      id: this.id,
      route: this.route,
      sent: this.#sent,
      received: this.#received,
      protocol,
      params,
      state,
      topics,
      replay: [...this.#replay],
    };
    this.#phase = "ended";
    this.#windowTimer = clearTimer(this.#windowTimer);
    this.#deadline = undefined;
    this.#replay.free();
    this.store.delete(this);
    this.connection.handOver();
    return moved;
  }

  /**
   * The server shuts down and another server can take the session over (its store shares sessions through a
   * {@link SessionEngine}): the socket is closed with `code` and `reason` and the session waits, detached, for its
   * client to come back to another server, which takes it over as after any dropped connection. False for a
   * session that is ending.
   */
  release(code: number, reason: string): boolean {
    if (this.#phase === "ended" || this.#closing) return false;
    this.#leaveSocket(code, reason);
    return true;
  }

  /** Ends a detached session whose window is over: `onClose(1006, SESSION_EXPIRED_REASON)`. */
  expire(): void {
    if (this.#phase === "detached") this.#end(CloseCode.ABNORMAL, SESSION_EXPIRED_REASON);
  }

  /** The socket of `link` closed: the session ends if it was closed on purpose, else it waits for its client. */
  linkClosed(link: SessionLink, code: number, reason: string): void {
    if (link !== this.#link) return;
    this.#setLink(undefined);
    if (this.#closing || !isResumable(code, reason)) return this.#end(code, reason);
    this.#detach();
  }

  /** The runtime's send buffer of the current socket drained. */
  writable(): void {
    this.connection.writable();
  }

  // --- inside ---

  #attach(link: SessionLink, journaled = true): void {
    this.#windowTimer = clearTimer(this.#windowTimer);
    this.#deadline = undefined;
    this.#setLink(link);
    this.#phase = "attached";
    if (journaled) this.#journal?.attached(this);
  }

  /** Closes the socket that carries the session, if any (see {@link SessionLink.abandon}), and detaches it. */
  #leaveSocket(code?: number, reason?: string): void {
    const link = this.#link;
    if (!link) return;
    this.#setLink(undefined);
    link.abandon(code, reason);
    this.#detach();
  }

  #setLink(link: SessionLink | undefined): void {
    this.#link = link;
    this.#socket = link?.transport;
  }

  #detach(): void {
    this.#phase = "detached";
    this.#lateTimer = clearTimer(this.#lateTimer);
    this.#replay.trim();
    this.#startWindow(Date.now() + this.limits.window * 1000);
    this.#journal?.detached(this);
    this.connection.notify("onDisconnect");
  }

  #startWindow(deadline: number): void {
    this.#deadline = deadline;
    if (this.#journal?.expires) return;
    this.#windowTimer = setTimeout(() => this.expire(), Math.max(0, deadline - Date.now()));
    (this.#windowTimer as { unref?: () => void }).unref?.();
  }

  #acknowledge(): void {
    this.#receivedAcknowledged = this.#received;
    this.#link?.sendControl(acknowledgement(this.#received));
  }

  /** Starts the late timer unless it runs: see {@link Session.#late}. */
  #lateSoon(): void {
    this.#lateTimer ??= setTimeout(() => this.#late(), ACK_DELAY_MS);
  }

  /**
   * At most {@link ACK_DELAY_MS} after a message it did not acknowledge, or after its replay buffer emptied:
   * acknowledges what came since (unless the journal does), and frees the buffer's room if the buffer is empty then,
   * so that an idle session keeps none.
   */
  #late(): void {
    this.#lateTimer = undefined;
    if (this.#received > this.#receivedAcknowledged && !this.#journal?.acknowledges) this.#acknowledge();
    this.#replay.trim();
  }

  #overflow(): void {
    this.#replay.free();
    // Retried by the client (1013), which then gets a new session.
    this.connection.close(CloseCode.TRY_AGAIN_LATER, REPLAY_FULL_REASON);
  }

  #end(code: number, reason: string): void {
    if (this.#phase === "ended") return;
    this.#phase = "ended";
    this.#lateTimer = clearTimer(this.#lateTimer);
    this.#windowTimer = clearTimer(this.#windowTimer);
    this.#deadline = undefined;
    this.#replay.free();
    this.store.delete(this);
    const held = this.#journal?.ended(this);
    if (!held) return this.connection.closed(code, reason);
    // A session shared by several servers: `onClose` runs here only if no other server took it meanwhile.
    held.then(
      (still) => still ? this.connection.closed(code, reason) : this.connection.handOver(),
      () => this.connection.closed(code, reason),
    );
  }
}

/** Stops `timer` if set; returns `undefined`, to assign. */
function clearTimer(timer: ReturnType<typeof setTimeout> | undefined): undefined {
  if (timer !== undefined) clearTimeout(timer);
  return undefined;
}

/**
 * The close Deno reports for a peer that answered no pings within `idleTimeout` (its own heartbeat): a dead peer,
 * as a dropped TCP connection is on the runtimes whose heartbeat is the core's.
 */
const DENO_IDLE_CLOSE = { code: CloseCode.GOING_AWAY, reason: "No response from ping frame." };

/** What the protocol may add to a message: the escape of a text that starts with U+0000, a hello, an ack. */
export const FRAMING_ROOM = 64;

/**
 * The limits of a resume route's sockets: the runtime's own message limit leaves room for the protocol's framing
 * (the session's connection applies the route's `maxMessageSize` to each message as the handler will see it).
 */
export function withRoomForFraming(limits: Limits): Limits {
  return { ...limits, maxMessageSize: limits.maxMessageSize + FRAMING_ROOM };
}

/**
 * A dropped TCP connection (no close frame), a peer dropped by the runtime's heartbeat and a client moving to a
 * new socket keep the session.
 */
function isResumable(code: number, reason: string): boolean {
  return code === CloseCode.ABNORMAL || code === RESUME_LATER ||
    (code === DENO_IDLE_CLOSE.code && reason === DENO_IDLE_CLOSE.reason);
}

/**
 * One socket of a resumable session, as the adapter sees it ({@link SocketEvents}): it waits for the client's
 * `hello`, then starts a new session on the connection made at the upgrade, or resumes the one asked for.
 */
export class SessionLink implements SocketEvents {
  #transport: Transport | undefined;
  #session: Session | undefined;
  /** The `hello` asked for a session that the engine is moving here from another server. */
  #takingOver = false;
  #closed = false;
  #heard = 0;
  /** The heartbeat's (see {@link HEARTBEAT_SLOT}). */
  [HEARTBEAT_SLOT]: number = -1;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;

  #limits: Limits | undefined;

  /** The subprotocol a resume route chooses (on the prototype: one field less per socket). */
  get protocol(): string {
    return RESUME_PROTOCOL;
  }

  /**
   * A socket of `route` whose `hello` may start a session on `fresh` (a connection that has not opened). `limits`:
   * the route's {@link withRoomForFraming}, made once for all its sockets (by default, made for this one).
   */
  constructor(readonly fresh: Connection, readonly route: string, limits?: Limits) {
    this.#limits = limits;
  }

  /**
   * The link of a socket that carried `session` before the session's memory was lost (a Durable Object woken
   * from hibernation), open again on `transport` without a `hello`: see {@link Session.restore}. `undefined` when
   * the session cannot take it back ({@link Session.rejoin}).
   */
  static rejoin(session: Session, transport: Transport): SessionLink | undefined {
    const link = new SessionLink(session.connection, session.route);
    link.#transport = transport;
    link.#session = session;
    if (!session.rejoin(link)) return undefined;
    if (link.limits.idleTimeout > 0 && transport.ping) link.runtime.heartbeat.watch(link);
    return link;
  }

  /** The runtime socket, once open. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** The session this socket carries, once its `hello` was answered. */
  get session(): Session | undefined {
    return this.#session;
  }

  /** The route's limits, with room for the protocol's framing. */
  get limits(): Limits {
    return (this.#limits ??= withRoomForFraming(this.fresh.limits));
  }

  /** The server the socket belongs to. */
  get runtime(): Runtime {
    return this.fresh.runtime!;
  }

  /** How many times the client was heard from on this socket: the heartbeat watches it. */
  get heard(): number {
    return this.#heard;
  }

  /** True once the runtime reported the socket closed. */
  get socketClosed(): boolean {
    return this.#closed;
  }

  open(transport: Transport): void {
    this.#transport = transport;
    if (this.limits.idleTimeout > 0 && transport.ping) this.runtime.heartbeat.watch(this);
    this.#helloTimer = setTimeout(() => this.closeSocket(CloseCode.POLICY_VIOLATION, "no hello"), HELLO_TIMEOUT_MS);
    (this.#helloTimer as { unref?: () => void }).unref?.();
  }

  receive(message: Message): void {
    this.#heard++;
    const session = this.#session;
    if (session !== undefined) {
      // A session's frequent frames without the general reader (measured on Bun: docs/performance.md, "Resume"): a
      // data message (binary, or text not starting with U+0000), and an acknowledgement, one per 64 messages.
      if (typeof message !== "string" || message.charCodeAt(0) !== 0) return session.received(message);
      if (message.charCodeAt(1) === ACK_CODE) {
        const received = Number(message.slice(2));
        if (!(Number.isSafeInteger(received) && received >= 0 && session.confirmed(received))) {
          this.closeSocket(CloseCode.PROTOCOL_ERROR, "unexpected control frame");
        }
        return;
      }
    }
    const frame = readFrame(message);
    if (!Array.isArray(frame)) {
      if (session) session.received(frame);
      else this.closeSocket(CloseCode.PROTOCOL_ERROR, "expected hello");
    } else if (!this.#control(frame)) {
      this.closeSocket(CloseCode.PROTOCOL_ERROR, "unexpected control frame");
    }
  }

  closed(code: number, reason: string): void {
    this.#closed = true;
    this.#helloTimer = clearTimer(this.#helloTimer);
    this.runtime.heartbeat.unwatch(this);
    this.#session?.linkClosed(this, code, reason);
  }

  pong(): void {
    this.#heard++;
  }

  writable(): void {
    this.#session?.writable();
  }

  // --- toward the client ---

  /** Sends a data message of the session. */
  send(data: SendData): void {
    this.#write(escape(data));
  }

  /** Sends a control frame (made by `control()`). */
  sendControl(frame: string): void {
    this.#write(frame);
  }

  #write(frame: SendData): void {
    try {
      this.#transport!.send(frame);
    } catch {
      // the socket is closing: its close event detaches the session
    }
  }

  /** Starts the socket's closing handshake. */
  closeSocket(code?: number, reason?: string): void {
    try {
      this.#transport?.close(code, reason);
    } catch {
      // already closed
    }
  }

  /** Sends a ping where the runtime can (the heartbeat). */
  ping(): void {
    try {
      this.#transport?.ping?.();
    } catch {
      // closing
    }
  }

  /** Drops the socket without a closing handshake where the runtime can; elsewhere closes it with 4900. */
  terminate(): void {
    if (this.#transport?.terminate) this.#transport.terminate();
    else this.closeSocket(RESUME_LATER, "");
  }

  /**
   * The session moved to another socket (or, with `code` and `reason`, leaves this server): this one is closed and
   * its events no longer reach the session.
   */
  abandon(code: number = CloseCode.POLICY_VIOLATION, reason = "session resumed on another connection"): void {
    this.#session = undefined;
    this.closeSocket(code, reason);
  }

  // --- inside ---

  /** Sends the client on to another server: this one shuts down and its sessions leave it (`shutdown`). */
  #sendOn(): void {
    this.closeSocket(SESSION_MOVE_CLOSE.code, SESSION_MOVE_CLOSE.reason);
  }

  /** Handles a control frame `[kind, ...fields]`; false when it breaks the protocol. */
  #control([kind, count, id]: string[]): boolean {
    const received = Number(count);
    if (!Number.isSafeInteger(received) || received < 0) return false;
    // An acknowledgement is read by `receive`: here only before the session, out of order.
    if (kind !== "h" || this.#session || this.#takingOver) return false;
    this.#helloTimer = clearTimer(this.#helloTimer);
    this.#hello(id || undefined, received);
    return true;
  }

  #hello(id: string | undefined, received: number): void {
    const store = this.runtime.sessions!;
    // Its sessions are leaving this server (`shutdown`): the client takes this one to another.
    if (store.engine && this.runtime.shuttingDown) {
      return this.#sendOn();
    }
    let reason: string | undefined;
    if (id !== undefined) {
      const found = store.get(id);
      if (!found && store.engine) return this.#takeOver(store.engine, id, received);
      reason = found && found.route === this.route ? found.resume(this, received) : NOT_FOUND_REASON;
      if (!reason) {
        this.#session = found;
        return;
      }
    }
    this.#start(reason);
  }

  /** Asks the engine to move session `id` here from the server that holds it, then resumes it on this socket. */
  #takeOver(engine: SessionEngine, id: string, received: number): void {
    this.#takingOver = true;
    const store = this.runtime.sessions!;
    const adopt = (moved: MovedSession) => store.adopt(moved, this.fresh, this.fresh.limits.resume!);
    store.arriving(
      engine.takeOver(id, this.route, adopt).then(undefined, (error) => {
        console.error("edgesocket: a session could not be moved here:", String(error));
        return undefined;
      }),
    ).then((session) => {
      this.#takingOver = false;
      // A socket closed meanwhile: a session moved here waits (detached) for its client's next one. So does one
      // that arrived as this server began shutting down, for the client to take it to another server.
      if (session && this.runtime.shuttingDown) {
        return this.#sendOn();
      }
      if (this.#closed) return;
      if (!session) return this.#start(NOT_FOUND_REASON);
      const reason = session.resume(this, received);
      if (!reason) this.#session = session;
      // Its handler is taken: the client's next socket gets a new one (the same refusal, then a new session).
      else this.closeSocket(CloseCode.TRY_AGAIN_LATER, reason);
    });
  }

  /** Starts a new session on the connection made at the upgrade; `reason`: why the one asked for did not resume. */
  #start(reason: string | undefined): void {
    const store = this.runtime.sessions!;
    const { maxConnections } = this.limits;
    if (maxConnections > 0 && this.runtime.connections.size >= maxConnections) {
      return this.closeSocket(CloseCode.TRY_AGAIN_LATER, TOO_MANY_CONNECTIONS_REASON);
    }
    const session = store.create(this.fresh, this.route, this.limits.resume!, this);
    this.#session = session;
    this.sendControl(control("w", 0, 0, session.id, reason ?? ""));
    this.fresh.open(session);
  }
}

/**
 * The sessions of one server, in memory: what a `hello` looks up. With a {@link SessionJournal}, each session is
 * also kept where it outlives the server's memory, and restored from there with {@link Session.restore}.
 */
export class SessionStore implements Iterable<Session> {
  readonly #sessions = new Map<string, Session>();
  #arriving = 0;

  /** Sessions kept in memory only, or also in `journal` (shared with other servers when it is an engine). */
  constructor(readonly journal?: SessionJournal | SessionEngine) {}

  /** The journal, when it shares sessions with other servers (see {@link SessionEngine}). */
  get engine(): SessionEngine | undefined {
    const journal = this.journal;
    return journal && "takeOver" in journal ? journal : undefined;
  }

  /** How many sessions live now, attached or detached. */
  get size(): number {
    return this.#sessions.size;
  }

  /** How many sessions are being moved here from other servers ({@link SessionEngine.takeOver}). */
  get arrivals(): number {
    return this.#arriving;
  }

  /** Counts `moving`, a session being moved here, among the {@link arrivals} until it settles; returns it. */
  arriving<T>(moving: Promise<T>): Promise<T> {
    this.#arriving++;
    return moving.finally(() => this.#arriving--);
  }

  /** The live session `id`, if any. */
  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /** A new session of `route` on `connection`, carried first by `link`, under a new random id. */
  create(connection: Connection, route: string, limits: ResumeLimits, link: SessionLink): Session {
    const session = new Session(newSessionId(), connection, route, limits, this, link);
    this.#sessions.set(session.id, session);
    this.journal?.started(session);
    return session;
  }

  /**
   * Rebuilds a session that another server gave up (see {@link Session.handOver}) on `connection`, made at this
   * upgrade and not opened (its handler is the new instance): opened without `open`, with the saved protocol,
   * params and `state`, back in its topics, detached (its window starting now) until `resume`.
   */
  adopt(moved: MovedSession, connection: Connection, limits: ResumeLimits): Session {
    const deadline = Date.now() + limits.window * 1000;
    return Session.restore({ ...moved, deadline }, limits, this, moved.replay, (session) => {
      connection.reopen(moved, session);
      connection.runtime?.pubsub?.restore(connection, moved.topics);
      return connection;
    });
  }

  /** Adds a restored session (see {@link Session.restore}). */
  add(session: Session): void {
    this.#sessions.set(session.id, session);
  }

  /** The live sessions, attached or detached. */
  [Symbol.iterator](): Iterator<Session> {
    return this.#sessions.values();
  }

  /** Forgets an ended session. */
  delete(session: Session): void {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
  }
}

/** A new session id: 144 random bits from the runtime's CSPRNG, base64url. */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

/**
 * A queue of the messages a session keeps for replay, with their count and size against the route's caps: an array
 * read from a head index and written after the kept messages, compacted once its dropped front is at least as long
 * as the rest. Emptied by an acknowledgement, it keeps its array's room for the next messages until {@link free}:
 * growing a new array from empty for each batch the client confirmed was most of what a Bun resume route allocated,
 * and its collector's work (docs/performance.md, "Resume"). Compaction moves the kept messages to the front without
 * shrinking the array, so a buffer that never empties keeps the room of its peak (at most about twice `maxMessages`
 * slots). One array of one kind for the JIT: a ring that alternated between a shared frozen empty array and rings
 * it grew left Bun's JIT exiting its compiled code about once per 600 messages under the bench's load.
 *
 * Sizes are kept as running totals beside the messages, so that dropping a confirmed batch reads one number instead
 * of the size of every message it drops (measured on Bun: 53 instructions less per message, docs/performance.md).
 */
class ReplayBuffer implements Iterable<SendData> {
  /** The kept messages are `length` slots from `#head` on; other slots are `undefined`, keeping nothing alive. */
  #items: (SendData | undefined)[] = [];
  /** `#ends[i]`: the bytes pushed since the buffer was last empty, up to and including slot `i`'s message. */
  #ends: number[] = [];
  #head = 0;
  /** The bytes pushed since the buffer was last empty, and those of them dropped. */
  #pushed = 0;
  #dropped = 0;
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  length = 0;

  constructor(limits: ResumeLimits) {
    this.#maxMessages = limits.maxMessages;
    this.#maxBytes = limits.maxBytes;
  }

  /** The bytes kept, as `maxBytes` counts them. */
  get bytes(): number {
    return this.#pushed - this.#dropped;
  }

  /** Keeps `data`; `false` when that puts the buffer over `maxMessages` or `maxBytes`. */
  push(data: SendData): boolean {
    const slot = this.#head + this.length;
    this.#items[slot] = data;
    this.#ends[slot] = this.#pushed += sizeOf(data);
    return ++this.length <= this.#maxMessages && this.bytes <= this.#maxBytes;
  }

  /** Drops the `count` oldest messages. */
  drop(count: number): void {
    if (count === 0) return;
    if (count === this.length) return this.#clear();
    const head = this.#head;
    const end = head + count;
    this.#dropped = this.#ends[end - 1]!;
    this.length -= count;
    if (end >= COMPACT_AFTER && end >= this.length) {
      const tail = end + this.length;
      this.#items.copyWithin(0, end, tail);
      this.#ends.copyWithin(0, end, tail);
      this.#unset(this.length, tail);
      this.#head = 0;
    } else {
      this.#unset(head, end);
      this.#head = end;
    }
  }

  /** The slots the array holds, used or not. */
  get room(): number {
    return this.#items.length;
  }

  /** Frees the array's room if no message is kept. */
  trim(): void {
    if (this.length === 0) this.free();
  }

  /** Drops every message, and the array's room. */
  free(): void {
    if (this.#items.length > 0) {
      this.#items = [];
      this.#ends = [];
    }
    this.#reset();
  }

  /** Drops every message, keeping the array's room. */
  #clear(): void {
    this.#unset(this.#head, this.#head + this.length);
    this.#reset();
  }

  /** Empties the slots `from` to `to` (exclusive), so that they keep nothing alive. */
  #unset(from: number, to: number): void {
    const items = this.#items;
    for (let i = from; i < to; i++) items[i] = undefined;
  }

  /** The counts and indexes of an empty buffer. */
  #reset(): void {
    this.#head = 0;
    this.length = 0;
    this.#pushed = 0;
    this.#dropped = 0;
  }

  *[Symbol.iterator](): Iterator<SendData> {
    const items = this.#items;
    const tail = this.#head + this.length;
    for (let i = this.#head; i < tail; i++) yield items[i]!;
  }
}

/** A replay buffer's array is compacted once this many messages at its front were dropped (and no fewer than kept). */
const COMPACT_AFTER = 256;

/** A message's size as `maxBytes` counts it: text in UTF-16 code units, binary in bytes. */
function sizeOf(data: SendData): number {
  return typeof data === "string" ? data.length : data.byteLength;
}
