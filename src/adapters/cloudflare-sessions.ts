/**
 * The resumable sessions of a Durable Object, kept in its storage so that they survive the object's hibernation
 * and eviction: the {@link SessionJournal} of the Durable Object adapter, and the restore of what it saved.
 *
 * It needs a SQLite-backed class (`new_sqlite_classes`): the core is synchronous, and so is `ctx.storage.kv`.
 * Per session, in the object's storage:
 * - `edgesocket:session:<id>`: a {@link SessionRecord}: the counts, the window's end, the number of the socket
 *   that carries it, and its handler's class, params, `state`, topics and route limits;
 * - `edgesocket:replay:<id>:<n>`: its unconfirmed messages, in {@link Chunk}s: what it sent between two writes,
 *   together (a message larger than a chunk is split over several).
 * While a session is attached, what changes (its new messages, its counts, its handler's `state` and topics, read
 * when written) waits up to {@link LAZY_MS}, so that the storage commits once per interval for every session that
 * changed, not once per event (local workerd takes a few ms per commit, and holds the object's outgoing messages
 * meanwhile). The pending timer keeps the object from hibernating until they are written, and fires long before an
 * idle object is evicted (seconds of no events at the least); a start, a detach and an end are written at the end
 * of the turn, a resume at once. So they survive hibernation and eviction; only a crash of the object (or a deploy)
 * may lose the last interval (then the client may be ahead of the storage, and gets a new session). The journal acknowledges what the client sent itself
 * ({@link SessionJournal.acknowledges}), right after the write that counts it: the object's output gate holds the
 * acknowledgement until that write is committed, so a client never drops a message the storage could still lose. A
 * chunk is deleted once the client confirmed all of it; what the client confirmed before it was written is dropped
 * from memory at once and never written.
 * A detached session's window ends with the object's alarm, which wakes an evicted object.
 * @module
 */
import type { Connection } from "../core/connection.ts";
import type { SendData } from "../core/message.ts";
import type { Limits, ResumeLimits } from "../core/options.ts";
import { Session, type SessionJournal, type SessionStore } from "../core/session.ts";

/** The part of a SQLite-backed object's synchronous key-value storage (`ctx.storage.kv`) this module uses. */
export interface SyncKvStorage {
  /** The value of `key`, or `undefined`. */
  get(key: string): unknown;
  /** Stores `value` (structured clone) under `key`. */
  put(key: string, value: unknown): void;
  /** Deletes `key`; whether it existed. */
  delete(key: string): boolean;
  /** The entries whose key starts with `prefix`, in key order. */
  list(options: { prefix: string }): Iterable<[string, unknown]>;
}

/** The part of `ctx.storage` this module uses: its key-value storage and its alarm. */
export interface SessionStorage {
  /** Present on SQLite-backed classes only. */
  kv?: SyncKvStorage;
  /** Schedules the object's one alarm (ms since the epoch). */
  setAlarm(scheduledTime: number): Promise<void>;
  /** Cancels the object's alarm. */
  deleteAlarm(): Promise<void>;
}

/** The limits an open connection still applies (origins were checked at the upgrade). */
export type RouteLimits = Omit<Limits, "allowedOrigins" | "resume">;

/** What rebuilds a handler: its class (an index into the object's `handlers`), and what it had. */
export interface SavedHandler {
  /** Its class: an index into `durableObject(app, { handlers })`. */
  handler: number;
  /** The topics it was in. */
  topics: string[];
  /** The subprotocol chosen at the upgrade, or `""`. */
  protocol: string;
  /** The route's params of the upgrade request. */
  params: Record<string, string>;
  /** The route's limits that differ from the defaults. */
  limits: Partial<RouteLimits>;
}

/** What the object keeps of one session: see the module's description. */
interface SessionRecord {
  id: string;
  route: string;
  sent: number;
  received: number;
  /** How many of the messages sent the client confirmed: the replay starts after them. */
  confirmed: number;
  deadline?: number;
  /** The number of the socket that carries the session: a socket with an older number was abandoned. */
  socket: number;
  /** The number of the session's next chunk. */
  nextChunk: number;
  resume: ResumeLimits;
  handler: SavedHandler;
  state: unknown;
}

/**
 * Messages of one session, numbered from `first`. With `joins`, the first one is the rest of the previous chunk's
 * last one (a message too large for one chunk).
 */
interface Chunk {
  first: number;
  messages: SendData[];
  joins?: true;
}

/** What the journal knows of one chunk of a session. */
interface ChunkEntry {
  n: number;
  /** The number of its last message (or part of one). */
  last: number;
  /** Its size as counted by {@link sizeOf}. */
  bytes: number;
  /** The chunk while it waits to be written (within {@link LAZY_MS}, or at the end of the turn). */
  unsaved: Chunk | undefined;
}

/** What the journal keeps in memory of one live session. */
interface Books {
  session: Session;
  record: SessionRecord;
  chunks: ChunkEntry[];
}

/** What a socket's attachment holds for a socket of a session. */
export interface SessionSocket {
  /** The session it carries; `null` before its `hello`. */
  session: string | null;
  /** Its number in the session: see {@link SessionRecord.socket}. */
  socket?: number;
}

/** How the journal reaches the object's handlers. */
export interface HandlerBridge {
  /** The saved form of a session's handler (its class, params, topics, limits). */
  save(connection: Connection): SavedHandler;
  /** Whether the object still serves the handler class of `saved`. */
  serves(saved: SavedHandler): boolean;
  /** A connection with a new handler rebuilt from `saved` and `state`, on `session`. */
  rebuild(saved: SavedHandler, state: unknown, session: Session): Connection;
  /** Writes what identifies a session's socket into the socket's attachment. */
  attach(socket: unknown, attachment: SessionSocket): void;
}

const RECORD_PREFIX = "edgesocket:session:";
const REPLAY_PREFIX = "edgesocket:replay:";
/**
 * The most one chunk holds, counted by {@link sizeOf}: the storage takes 2 MB per key and value, and a text
 * counts 2 bytes per UTF-16 code unit, the most it takes serialised.
 */
const CHUNK_BYTES = 512 * 1024;
/**
 * How long what changes in an attached session may wait to be written: see the module's description. On local
 * workerd (bench/resume.ts, paired runs against the plain route) the resume route made 0.79-0.86x of the plain
 * route's throughput with 100 ms, 0.89x with 250 ms, 0.91x with 500 ms, 0.89-0.98x with 1 s: a client acknowledges
 * within 100 ms, so with 1 s most of what a session sends is confirmed before it would be written (and is not), and
 * each session's record is written once a second while it is busy.
 */
const LAZY_MS = 1000;

/** The sessions of one Durable Object in its storage: see the module's description. */
export class DurableSessions implements SessionJournal {
  /** The object's alarm ends the windows. */
  readonly expires = true;
  /** Acknowledgements go out once what they confirm is written. */
  readonly acknowledges = true;
  readonly #books = new Map<string, Books>();
  readonly #unsaved = new Set<string>();
  #flushing = false;
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;
  /** The alarm this journal set last: `undefined` for none. */
  #alarmAt: number | undefined;

  /** The journal of the object whose storage is `storage` (`kv` its synchronous part), with its `handlers`. */
  constructor(
    readonly kv: SyncKvStorage,
    readonly storage: SessionStorage,
    readonly handlers: HandlerBridge,
  ) {}

  // --- the journal ---

  /** A new session: its record, written at the end of the turn. */
  started(session: Session): void {
    const { connection } = session;
    const record: SessionRecord = {
      id: session.id,
      route: session.route,
      sent: 0,
      received: 0,
      confirmed: 0,
      socket: 1,
      nextChunk: 0,
      resume: session.limits,
      handler: this.handlers.save(connection),
      state: connection.state,
    };
    this.#books.set(session.id, { session, record, chunks: [] });
    this.#attach(session, record);
    this.#changed(session.id);
  }

  /** Adds the message to the session's chunks (written lazily). */
  sent(session: Session, data: SendData): void {
    const books = this.#books.get(session.id);
    if (!books) return;
    books.record.sent = session.sentCount;
    this.#append(books, session.sentCount, data);
    this.#changed(session.id, true);
  }

  /** Counts a message from the client (written lazily, then acknowledged). */
  received(session: Session): void {
    const books = this.#books.get(session.id);
    if (!books) return;
    books.record.received = session.receivedCount;
    this.#changed(session.id, true);
  }

  /** Counts what the client confirmed (written lazily; its chunks deleted then). */
  confirmed(session: Session): void {
    const books = this.#books.get(session.id);
    if (!books) return;
    const confirmed = books.record.confirmed = session.sentCount - session.pending;
    for (const chunk of books.chunks) if (chunk.unsaved) forgetConfirmed(chunk, confirmed);
    this.#changed(session.id, true);
  }

  /** Records the window's end and sets the alarm. */
  detached(session: Session): void {
    const books = this.#books.get(session.id);
    if (!books) return;
    books.record.deadline = session.deadline;
    this.#changed(session.id);
    this.reschedule();
  }

  /**
   * Numbers the session's new socket, writes its attachment, and writes the session at once: the welcome that
   * follows tells the client what was received, and the output gate holds it until that is committed.
   */
  attached(session: Session): void {
    const books = this.#books.get(session.id);
    if (!books) return;
    delete books.record.deadline;
    books.record.socket++;
    this.#attach(session, books.record);
    this.#unsaved.delete(session.id);
    this.#save(books);
    this.reschedule();
  }

  /** Deletes the session's record and chunks. */
  ended(session: Session): void {
    const books = this.#books.get(session.id);
    if (!books) return;
    this.#books.delete(session.id);
    this.#unsaved.delete(session.id);
    this.kv.delete(recordKey(session.id));
    for (const chunk of books.chunks) if (!chunk.unsaved) this.kv.delete(chunkKey(session.id, chunk.n));
    this.reschedule();
  }

  // --- for the adapter ---

  /** The handler of `session` assigned its `state` or changed its topics: saved within {@link LAZY_MS}. */
  handlerChanged(session: Session): void {
    if (this.#books.has(session.id)) this.#changed(session.id, true);
  }

  /** Whether `socket` is the one that carries session `id` now (not one the client moved on from). */
  isCurrent(id: string, socket: number | undefined): boolean {
    return this.#books.get(id)?.record.socket === socket;
  }

  /**
   * Restores every session the storage holds into `store`, detached, each with a new handler (see
   * {@link Session.restore}); a session whose handler cannot be rebuilt is forgotten.
   */
  restore(store: SessionStore): void {
    const chunks = new Map<string, { n: number; chunk: Chunk }[]>();
    for (const [key, value] of this.kv.list({ prefix: REPLAY_PREFIX })) {
      const [id, n] = key.slice(REPLAY_PREFIX.length).split(":");
      let list = chunks.get(id!);
      if (!list) chunks.set(id!, list = []);
      list.push({ n: Number(n), chunk: value as Chunk });
    }
    for (const [key, value] of this.kv.list({ prefix: RECORD_PREFIX })) {
      const record = value as SessionRecord;
      const saved = chunks.get(record.id) ?? [];
      chunks.delete(record.id);
      if (!this.handlers.serves(record.handler)) {
        // Its handler class is no longer listed: the session cannot come back.
        this.kv.delete(key);
        for (const { n } of saved) this.kv.delete(chunkKey(record.id, n));
        continue;
      }
      const replay = reassemble(saved.map(({ chunk }) => chunk), record.confirmed);
      const session = Session.restore(
        record,
        record.resume,
        store,
        replay,
        (session) => this.handlers.rebuild(record.handler, record.state, session),
      );
      this.#books.set(record.id, { session, record, chunks: saved.map(({ n, chunk }) => entryOf(n, chunk)) });
    }
    // Chunks of no session: what an interrupted end left.
    for (const [id, list] of chunks) for (const { n } of list) this.kv.delete(chunkKey(id, n));
  }

  /** Ends every detached session whose window is over; then sets the alarm for the next one. */
  expireDue(store: SessionStore, now: number): void {
    for (const session of [...store]) {
      if (session.phase === "detached" && session.deadline !== undefined && session.deadline <= now) session.expire();
    }
    this.reschedule();
  }

  /** Sets the object's alarm for the first window that ends, or deletes it when no session is detached. */
  reschedule(): void {
    let first: number | undefined;
    for (const { record } of this.#books.values()) {
      if (record.deadline !== undefined && (first === undefined || record.deadline < first)) first = record.deadline;
    }
    if (first === this.#alarmAt) return;
    this.#alarmAt = first;
    const done = first === undefined ? this.storage.deleteAlarm() : this.storage.setAlarm(first);
    done.catch((error) => console.error("edgesocket: the session alarm could not be set", error));
  }

  // --- inside ---

  #attach(session: Session, record: SessionRecord): void {
    const socket = session.link?.transport;
    if (socket) this.handlers.attach(socket, { session: session.id, socket: record.socket });
  }

  /** Adds message `number` to the session's last unsaved chunk, or to new ones. */
  #append(books: Books, number: number, data: SendData): void {
    const message = stored(data);
    const size = sizeOf(message);
    let last = books.chunks.at(-1);
    if (size > CHUNK_BYTES) {
      // A message larger than a chunk: its parts fill chunks of their own, the last of which takes what follows.
      const parts = split(message);
      parts.forEach((part, i) => {
        const chunk: Chunk = { first: number, messages: [part] };
        if (i > 0) chunk.joins = true;
        books.chunks.push(last = { n: books.record.nextChunk++, last: number, bytes: sizeOf(part), unsaved: chunk });
      });
      return;
    }
    if (!last?.unsaved || last.bytes + size > CHUNK_BYTES) {
      const chunk: Chunk = { first: number, messages: [] };
      books.chunks.push(last = { n: books.record.nextChunk++, last: number, bytes: 0, unsaved: chunk });
    }
    last.unsaved!.messages.push(message);
    last.last = number;
    last.bytes += size;
  }

  /** Saves session `id` at the end of the turn, or with `lazy` within {@link LAZY_MS}. */
  #changed(id: string, lazy = false): void {
    this.#unsaved.add(id);
    if (lazy) {
      this.#lazyTimer ??= setTimeout(() => this.#flush(), LAZY_MS);
      return;
    }
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => this.#flush());
  }

  /** Writes what changed: each changed session's record and new chunks, and deletes its confirmed chunks. */
  #flush(): void {
    this.#flushing = false;
    if (this.#lazyTimer !== undefined) clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    const changed = [...this.#unsaved];
    this.#unsaved.clear();
    for (const id of changed) {
      const books = this.#books.get(id);
      // The acknowledgement goes out after the write: the output gate holds it until the write is committed.
      if (books && this.#save(books)) books.session.acknowledge();
    }
  }

  /**
   * Writes one session: deletes its confirmed chunks, writes its new ones and its record (with its handler's
   * `state` and topics as they are now). False when the session cannot be kept.
   */
  #save(books: Books): boolean {
    const { session, record, chunks } = books;
    const id = session.id;
    try {
      let confirmed = 0;
      while (confirmed < chunks.length && chunks[confirmed]!.last <= record.confirmed) {
        if (!chunks[confirmed]!.unsaved) this.kv.delete(chunkKey(id, chunks[confirmed]!.n));
        confirmed++;
      }
      chunks.splice(0, confirmed);
      for (const chunk of chunks) {
        if (!chunk.unsaved) continue;
        this.kv.put(chunkKey(id, chunk.n), chunk.unsaved);
        chunk.unsaved = undefined;
      }
      const { connection } = session;
      record.state = connection.state;
      record.handler.topics = connection.topics;
      this.kv.put(recordKey(id), record);
    } catch (error) {
      // e.g. a `state` the storage cannot clone, or over its 2 MB: the session cannot be kept.
      session.connection.fail(error);
      return false;
    }
    return true;
  }
}

function recordKey(id: string): string {
  return RECORD_PREFIX + id;
}

/** Chunk numbers padded, so that the storage lists them in order. */
function chunkKey(id: string, n: number): string {
  return `${REPLAY_PREFIX}${id}:${String(n).padStart(12, "0")}`;
}

/** Drops from a chunk not yet written the messages up to number `confirmed`: they need not be written. */
function forgetConfirmed(entry: ChunkEntry, confirmed: number): void {
  const chunk = entry.unsaved!;
  const count = Math.min(confirmed - chunk.first + 1, chunk.messages.length);
  if (count <= 0) return;
  for (const message of chunk.messages.splice(0, count)) entry.bytes -= sizeOf(message);
  chunk.first += count;
  // Its first message, if it was the rest of the previous chunk's last one, is gone.
  delete chunk.joins;
}

function entryOf(n: number, chunk: Chunk): ChunkEntry {
  const bytes = chunk.messages.reduce((sum, message) => sum + sizeOf(message), 0);
  return { n, last: chunk.first + chunk.messages.length - 1, bytes, unsaved: undefined };
}

/** The messages after the first `confirmed`, whole again, from a session's chunks in order. */
function reassemble(chunks: Chunk[], confirmed: number): SendData[] {
  const messages: SendData[] = [];
  for (const chunk of chunks) {
    chunk.messages.forEach((message, i) => {
      if (chunk.first + i <= confirmed) return;
      // The first part of a message split over chunks is in the previous chunk, which is kept as long as this one.
      if (i === 0 && chunk.joins) messages.push(join(messages.pop()!, message));
      else messages.push(message);
    });
  }
  return messages;
}

/** What a chunk stores of a message: a view's bytes alone (a view would take its whole buffer along). */
function stored(data: SendData): SendData {
  if (typeof data === "string" || data instanceof ArrayBuffer) return data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/** A message's size in a chunk: bytes, or 2 per UTF-16 code unit of a text. */
function sizeOf(data: SendData): number {
  return typeof data === "string" ? data.length * 2 : data.byteLength;
}

/** A message larger than a chunk, in parts that each fit one. */
function split(data: SendData): SendData[] {
  const parts: SendData[] = [];
  if (typeof data === "string") {
    const step = CHUNK_BYTES / 2;
    for (let i = 0; i < data.length; i += step) parts.push(data.slice(i, i + step));
  } else {
    const bytes = bytesOf(data);
    for (let i = 0; i < bytes.byteLength; i += CHUNK_BYTES) parts.push(bytes.slice(i, i + CHUNK_BYTES));
  }
  return parts;
}

/** Two parts of one message, joined. */
function join(head: SendData, tail: SendData): SendData {
  if (typeof head === "string") return head + (tail as string);
  const a = bytesOf(head);
  const b = bytesOf(tail as Exclude<SendData, string>);
  const whole = new Uint8Array(a.byteLength + b.byteLength);
  whole.set(a);
  whole.set(b, a.byteLength);
  return whole;
}

function bytesOf(data: Exclude<SendData, string>): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
