/**
 * Resumable sessions shared through Redis ({@link redisSessions}): a client that comes back to another process
 * resumes its session there, with what it missed, exactly once and in order.
 *
 * **What Redis keeps.** Each session has two keys, `<prefix>:s:{<digest>}:m` and `…:l`, named after a digest of its
 * id (the id itself, a capability, appears nowhere in Redis): a hash (the holder's process id, route, params,
 * subprotocol, `state`, topics, `first`: the number of the list's first message, `received`: the client's messages
 * received as of the last acknowledgement) and a list (the messages the client has not confirmed, oldest first).
 * The holder writes what changes in batches: one `EVAL` per tick for all its sessions, checked against the holder
 * recorded in the hash, after what it published before; the list is trimmed as the client confirms. Both keys
 * expire `window` + 30 s after they were made, and the holder makes that time start again every 10 s, so a crashed
 * holder leaves nothing behind for long.
 *
 * **Hand-over.** A process B asked to resume a session that process A holds:
 * 1. reads the session's holder and topics, and subscribes to the topics' channels and to A's own channel;
 * 2. publishes a `Takeover` frame on A's channel. Both A and B receive it, each on its subscriber connection, at
 *    the same point of Redis's one order of publications: publications of the session's topics before it are A's
 *    to deliver, those after it B's;
 * 3. A, on that frame, gives the session up (`Session.handOver()`: its socket closed, no `onClose`, out of its
 *    topics at once), writes what is pending, then in one script saves its state, makes B the holder and
 *    publishes `Released` to B. A's own publications made before it gave the session up reach Redis before that
 *    script (one connection), so B drops A's publications until `Released`, and keeps them after;
 * 4. B keeps what arrived after the marker (and its own publications after it sent the marker), reads the saved
 *    session, rebuilds it (new handler instance; `open` not run again), delivers what it kept, and resumes it.
 * A holder whose handler is busy answers `Busy` (B asks again); one that no longer holds the session, `Gone`.
 *
 * **Shutdown.** A process that shuts down releases its sessions (`Session.release`: their sockets closed with 1012,
 * the sessions detached) and answers hand-over requests as above until they have moved or its `timeout` is over.
 *
 * **End.** The session ends where it is held: a script deletes its keys if that process still holds it, and only
 * then does `onClose` run there. So `open` runs once and `onClose` once, across processes.
 *
 * Not yet: a Redis Cluster (its shards keep no common order of publications), and taking over from a process
 * that died (no longer subscribed to its channel: the client then gets a new session at once; the dead process's
 * keys expire).
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { SendData } from "../core/message.ts";
import type { Backplane } from "../core/pubsub.ts";
import type { Runtime } from "../core/runtime.ts";
import type { Session } from "../core/session.ts";
import type { MovedSession, SessionEngine } from "../core/session-engine.ts";
import { type BackplaneHooks, hooksOf } from "./hooks.ts";
import { type Frame, Kind, publicationOf, sessionFrame, sessionFrameOf } from "./wire.ts";

/** Options of {@link redisSessions}. */
export interface RedisSessionsOptions {
  /** How long a process waits for the one that holds a session to hand it over, in ms. Default 5000. */
  takeoverTimeout?: number;
}

/**
 * Shares the resumable sessions of `serve(app, { backplane, sessions })` with the other processes of the same
 * `backplane` (one Redis server): a client that reconnects to another process resumes its session there. Give
 * it the backplane that the same `serve()` gets.
 *
 * @example
 * ```ts
 * const backplane = redisBackplane();
 * serve(app, { port: 8000, backplane, sessions: redisSessions(backplane) });
 * ```
 * @throws TypeError when `backplane` was not made by `redisBackplane()`; Error when it is a cluster's.
 */
export function redisSessions(backplane: Backplane, options: RedisSessionsOptions = {}): SessionEngine {
  const hooks = hooksOf(backplane);
  if (!hooks) throw new TypeError("edgesocket: redisSessions() takes a backplane made by redisBackplane()");
  if (!hooks.singleServer) {
    throw new Error("edgesocket: redisSessions() needs one Redis server; a Redis Cluster is not supported yet");
  }
  return new RedisSessions(backplane, hooks, options.takeoverTimeout ?? 5000);
}

/** How long the keys of a session outlive its window, and how often its holder refreshes them. */
const EXPIRY_MARGIN_MS = 30_000;
const REFRESH_MS = 10_000;
/** The most arguments of one batch `EVAL` (Lua's `unpack` takes a few thousand at most). */
const MAX_BATCH_ARGS = 4000;
/** The first byte of a message in the list: text or binary. */
const TEXT = 0x74;
const BINARY = Buffer.from("b");

/**
 * The holder's writes, per session (`KEYS`: hash and list, in pairs). `ARGV[1]` is the holder; then per session
 * `expiry ttl fields items keep`, its fields (name, value) and its messages (appended to the list). `expiry`: `c` a
 * new session (its keys get their time to live), `r` a refresh of it, `-` neither (a list that appending creates
 * gets it too). `keep` ≥ 0: the list keeps its last `keep` messages (the client confirmed the others). A session
 * whose hash names another holder (or none, unless new) is left alone and reported.
 */
const BATCH_SCRIPT = `
local holder = ARGV[1]
local a = 2
local lost = {}
for k = 1, #KEYS, 2 do
  local expiry, ttl = ARGV[a], ARGV[a + 1]
  local fields, items, keep = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  a = a + 5
  if expiry == 'c' or redis.call('HGET', KEYS[k], 'owner') == holder then
    if fields > 0 then redis.call('HSET', KEYS[k], unpack(ARGV, a, a + 2 * fields - 1)) end
    a = a + 2 * fields
    if items > 0 and redis.call('RPUSH', KEYS[k + 1], unpack(ARGV, a, a + items - 1)) == items then
      redis.call('PEXPIRE', KEYS[k + 1], ttl)
    end
    a = a + items
    if keep == 0 then redis.call('DEL', KEYS[k + 1]) elseif keep > 0 then redis.call('LTRIM', KEYS[k + 1], -keep, -1) end
    if expiry ~= '-' then
      redis.call('PEXPIRE', KEYS[k], ttl)
      redis.call('PEXPIRE', KEYS[k + 1], ttl)
    end
  else
    a = a + 2 * fields + items
    lost[#lost + 1] = (k + 1) / 2
  end
end
return lost`;

/** Hands a session over: `ARGV` holder, next holder, the next holder's channel, the `Released` frame, fields. */
const RELEASE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], unpack(ARGV, 5))
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`;

/** Ends a session if `ARGV[1]` still holds it (or nobody: its keys expired): 1 if so. */
const END_SCRIPT = `
local holder = redis.call('HGET', KEYS[1], 'owner')
if holder and holder ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;

/** The two keys of a session. */
interface SessionKeys {
  meta: string;
  list: string;
}

/** The sessions of one server, shared through Redis: their journal, and their moves between processes. */
class RedisSessions implements SessionEngine {
  #runtime: Runtime | undefined;
  /** The sessions held here, by digest, and by session. */
  readonly #held = new Map<string, RedisJournal>();
  readonly #journals = new WeakMap<Session, RedisJournal>();
  /** Sessions being moved here, by digest. */
  readonly #incoming = new Map<string, Promise<Session | undefined>>();
  /** Hand-overs this process asked for, by request id. */
  readonly #takeovers = new Map<number, Takeover>();
  #nextRequest = 0;
  /** Journals with writes not yet sent. */
  readonly #dirty = new Set<RedisJournal>();
  #flushQueued = false;

  constructor(readonly backplane: Backplane, readonly hooks: BackplaneHooks, readonly takeoverTimeout: number) {}

  start(runtime: Runtime): void {
    if (this.#runtime) throw new Error("edgesocket: redisSessions() serves one server; make one per serve()");
    if (runtime.pubsub?.backplane !== this.backplane) {
      throw new Error(
        "edgesocket: give serve() the backplane that redisSessions() got: serve(app, { backplane, sessions })",
      );
    }
    this.#runtime = runtime;
    this.hooks.observer = {
      received: (frame) => this.#received(frame),
      published: (topic, data) => this.#published(topic, data),
      session: (frame, own) => this.#sessionFrame(frame, own),
    };
    const refresh = setInterval(() => {
      for (const journal of this.#held.values()) journal.refresh();
    }, REFRESH_MS);
    (refresh as { unref?: () => void }).unref?.();
  }

  // --- the journal of the sessions held here ---

  started(session: Session): void {
    this.queue(this.#hold(session, undefined));
  }

  sent(session: Session, data: SendData): void {
    this.#journals.get(session)?.sent(session.sentCount, data);
  }

  confirmed(session: Session): void {
    this.#journals.get(session)?.confirmed(session.sentCount - session.pending);
  }

  received(session: Session): void {
    this.#journals.get(session)?.received(session.receivedCount);
  }

  changed(session: Session): void {
    this.#journals.get(session)?.changed();
  }

  /** Sessions held here expire with the core's timers; Redis's keys outlive their window by a margin. */
  detached(): void {}

  attached(): void {}

  movable(session: Session): boolean {
    return this.#journals.get(session)?.failure === undefined;
  }

  ended(session: Session): Promise<boolean> {
    const journal = this.#journals.get(session);
    return journal ? this.end(journal) : Promise.resolve(true);
  }

  /** `session` is held here from now on: new (`sent` undefined), or rebuilt from what was saved. */
  #hold(session: Session, sent: number | undefined): RedisJournal {
    const digest = digestOf(session.id);
    const journal = new RedisJournal(this, session, digest, this.keysOf(digest), sent);
    this.#held.set(digest, journal);
    this.#journals.set(session, journal);
    return journal;
  }

  keysOf(digest: string): SessionKeys {
    const base = `${this.hooks.prefix}:s:{${digest}}`;
    return { meta: `${base}:m`, list: `${base}:l` };
  }

  // --- writing ---

  /** Sends `journal`'s writes with the next batch (at the end of this tick). */
  queue(journal: RedisJournal): void {
    this.#dirty.add(journal);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Sends every pending write now, in as few `EVAL`s as fit. */
  flush(): void {
    this.#flushQueued = false;
    if (this.#dirty.size === 0) return;
    let keys: string[] = [];
    let args: (string | Buffer)[] = [this.hooks.originHex];
    let journals: RedisJournal[] = [];
    const send = () => {
      const sent = journals;
      this.hooks.command(["EVAL", BATCH_SCRIPT, String(keys.length), ...keys, ...args]).then(
        (lost) => {
          for (const index of lost as number[]) sent[index - 1]!.broken("its keys expired or moved");
        },
        (error) => {
          for (const journal of sent) journal.broken(String(error));
        },
      );
    };
    for (const journal of this.#dirty) {
      for (const record of journal.take()) {
        if (keys.length > 0 && args.length + record.length > MAX_BATCH_ARGS) {
          send();
          [keys, args, journals] = [[], [this.hooks.originHex], []];
        }
        keys.push(journal.keys.meta, journal.keys.list);
        args.push(...record);
        journals.push(journal);
      }
    }
    this.#dirty.clear();
    send();
  }

  /** The session of `journal` ends: resolves whether this process still held it (and so runs `onClose`). */
  end(journal: RedisJournal): Promise<boolean> {
    this.#held.delete(journal.digest);
    this.#dirty.delete(journal);
    if (journal.unsaved) return Promise.resolve(true);
    const { meta, list } = journal.keys;
    return this.hooks.command(["EVAL", END_SCRIPT, "2", meta, list, this.hooks.originHex]).then((held) => held === 1);
  }

  // --- giving a session up (this process holds it) ---

  /** Another process asks for a session held here (a `Takeover` frame addressed to this process). */
  #handOver(frame: Frame): void {
    const { id } = sessionFrameOf(frame);
    const asker = Buffer.from(frame.origin);
    const askerHex = asker.toString("hex");
    const digest = frame.topic;
    const reply = (kind: Kind) =>
      this.hooks.publish(
        this.hooks.processChannel(askerHex),
        sessionFrame(kind, this.hooks.origin, digest, id, asker),
      );
    const journal = this.#held.get(digest);
    if (!journal) return reply(this.#incoming.has(digest) ? Kind.Busy : Kind.Gone);
    if (journal.failure) return reply(Kind.Gone);
    const moved = journal.session.handOver();
    if (!moved) return reply(Kind.Busy);
    this.#held.delete(digest);
    this.flush(); // what the session wrote before goes first
    const released = sessionFrame(Kind.Released, this.hooks.origin, digest, id, asker);
    this.hooks.command([
      "EVAL",
      RELEASE_SCRIPT,
      "1",
      journal.keys.meta,
      this.hooks.originHex,
      askerHex,
      this.hooks.processChannel(askerHex),
      released,
      ...savedFields(moved),
      "sent",
      String(moved.sent),
      "received",
      String(moved.received),
    ]).catch((error) => console.error("edgesocket: a session could not be handed over:", String(error)));
  }

  // --- taking a session over (another process holds it) ---

  takeOver(id: string, route: string, adopt: (moved: MovedSession) => Session): Promise<Session | undefined> {
    const digest = digestOf(id);
    const incoming = this.#incoming.get(digest);
    // Already on its way here for another socket of the same client: that one's result.
    if (incoming) return incoming.then((session) => session?.phase === "ended" ? undefined : session);
    const moving = this.#move(id, digest, route, adopt).finally(() => this.#incoming.delete(digest));
    this.#incoming.set(digest, moving);
    return moving;
  }

  async #move(
    id: string,
    digest: string,
    route: string,
    adopt: (moved: MovedSession) => Session,
  ): Promise<Session | undefined> {
    const keys = this.keysOf(digest);
    const deadline = Date.now() + this.takeoverTimeout;
    let gone: string | undefined;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const [savedRoute, holder, topics] = await this.hooks.command([
        "HMGET",
        keys.meta,
        "route",
        "owner",
        "topics",
      ]) as (string | null)[];
      // Not found, another route's, or told already by its holder that it no longer has it (it is ending).
      if (savedRoute !== route || !holder || holder === this.hooks.originHex || holder === gone) return undefined;
      // A holder that died cannot hand it over (nor answer): a new session at once, not after the timeout.
      if (attempt === 0 && !(await this.#connected(holder))) return undefined;
      const answer = await this.#ask(
        digest,
        holder,
        JSON.parse(topics ?? "[]"),
        deadline,
        (takeover) => this.#adopt(keys, id, route, takeover, adopt),
      );
      if (typeof answer !== "number") return answer;
      if (answer === Kind.Gone) gone = holder;
      else await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 200)));
    }
    return undefined;
  }

  /** Whether process `holder` is connected to Redis (subscribed to its own channel); a process that died is not. */
  async #connected(holder: string): Promise<boolean> {
    const reply = await this.hooks.command(["PUBSUB", "NUMSUB", this.hooks.processChannel(holder)]);
    // `[channel, count]`, or `{ channel: count }` on RESP3.
    const count = Array.isArray(reply) ? reply[1] : Object.values(reply as object)[0];
    return Number(count) > 0;
  }

  /**
   * Asks `holder` to hand the session over, listening to the session's topics and to the holder's channel from
   * before the question until the session is rebuilt here (by `adopted`, on `Released`).
   */
  async #ask(
    digest: string,
    holder: string,
    topics: string[],
    deadline: number,
    adopted: (takeover: Takeover) => Promise<Session | undefined>,
  ): Promise<Session | undefined | typeof Kind.Busy | typeof Kind.Gone> {
    const holderChannel = this.hooks.processChannel(holder);
    const release = await this.hooks.hold([...topics.map((topic) => this.hooks.topicChannel(topic)), holderChannel]);
    const takeover = new Takeover(
      this.#nextRequest = (this.#nextRequest + 1) >>> 0,
      Buffer.from(holder, "hex"),
      topics,
    );
    this.#takeovers.set(takeover.id, takeover);
    try {
      this.hooks.publish(
        holderChannel,
        sessionFrame(Kind.Takeover, this.hooks.origin, digest, takeover.id, takeover.holder),
      );
      takeover.asked = true;
      const answer = await takeover.answer(deadline - Date.now());
      if (answer === Kind.Released) return await adopted(takeover);
      return answer === Kind.Busy || answer === Kind.Gone ? answer : undefined;
    } finally {
      this.#takeovers.delete(takeover.id);
      release();
    }
  }

  /** The holder released the session: rebuilds it from Redis, then delivers what was published since. */
  async #adopt(
    keys: SessionKeys,
    id: string,
    route: string,
    takeover: Takeover,
    adopt: (moved: MovedSession) => Session,
  ): Promise<Session | undefined> {
    const [fields, items] = await Promise.all([
      this.hooks.command(["HGETALL", keys.meta]),
      this.hooks.command(["LRANGE", keys.list, "0", "-1"], true),
    ]);
    const moved = movedSession(id, route, hashOf(fields), items as Buffer[]);
    if (!moved) return undefined;
    let session: Session;
    try {
      session = adopt(moved);
    } finally {
      this.#takeovers.delete(takeover.id);
    }
    this.#hold(session, moved.sent);
    // Kept since the hand-over, in order; only for the topics the session is still in.
    const topics = new Set(moved.topics);
    for (const { topic, data } of takeover.kept) if (topics.has(topic)) session.send(data);
    return session;
  }

  // --- what the backplane sees ---

  #received(frame: Frame): void {
    for (const takeover of this.#takeovers.values()) takeover.received(frame);
  }

  #published(topic: string, data: SendData): void {
    for (const takeover of this.#takeovers.values()) takeover.published(topic, data);
  }

  #sessionFrame(frame: Frame, own: boolean): void {
    const { id, target } = sessionFrameOf(frame);
    if (frame.kind === Kind.Takeover) {
      if (own) this.#takeovers.get(id)?.marked();
      else if (target.equals(this.hooks.origin)) this.#handOver(frame);
    } else if (target.equals(this.hooks.origin)) {
      this.#takeovers.get(id)?.answered(frame.kind);
    }
  }
}

/** One hand-over this process asked for: what it keeps of the session's topics meanwhile, and the answer. */
class Takeover {
  /** The question was published: this process's own publications from now on are the session's. */
  asked = false;
  /** This process saw its question come back: other processes' publications from now on are the session's. */
  #marked = false;
  /** The holder answered `Released`: its own publications from now on are the session's. */
  #released = false;
  readonly kept: { topic: string; data: SendData }[] = [];
  readonly #topics: Set<string>;
  #answered: ((kind: Kind | undefined) => void) | undefined;
  readonly #answer = new Promise<Kind | undefined>((resolve) => this.#answered = resolve);

  constructor(readonly id: number, readonly holder: Buffer, topics: string[]) {
    this.#topics = new Set(topics);
  }

  /** Resolves with the holder's answer, or `undefined` after `timeout` ms. */
  answer(timeout: number): Promise<Kind | undefined> {
    const timer = setTimeout(() => this.#answered!(undefined), Math.max(0, timeout));
    return this.#answer.finally(() => clearTimeout(timer));
  }

  marked(): void {
    this.#marked = true;
  }

  answered(kind: Kind): void {
    if (kind === Kind.Released) this.#released = true;
    this.#answered!(kind);
  }

  received(frame: Frame): void {
    if (!this.#topics.has(frame.topic)) return;
    const fromHolder = frame.origin.equals(this.holder);
    if (fromHolder ? this.#released : this.#marked) this.kept.push({ topic: frame.topic, data: publicationOf(frame) });
  }

  published(topic: string, data: SendData): void {
    if (this.asked && this.#topics.has(topic)) this.kept.push({ topic, data });
  }
}

/** What one session held here has to write. */
class RedisJournal {
  #items: (string | Buffer)[] = [];
  /** The number of the session's last message sent (the list's last), and of the last one confirmed. */
  #sent: number;
  #confirmed = -1;
  #received = -1;
  #changed: boolean;
  #refresh = false;
  /** A new session, not yet written: its first batch creates its keys. */
  unsaved: boolean;
  /** Why its writes failed, if they did: it can no longer be handed over (it still resumes here). */
  failure: string | undefined;

  /** The journal of a new session, or of one rebuilt here whose `sent` count was saved. */
  constructor(
    readonly engine: RedisSessions,
    readonly session: Session,
    readonly digest: string,
    readonly keys: SessionKeys,
    saved: number | undefined,
  ) {
    this.unsaved = this.#changed = saved === undefined;
    this.#sent = saved ?? 0;
  }

  /** Its keys' time to live starts again with the next batch. */
  refresh(): void {
    this.#refresh = true;
    this.engine.queue(this);
  }

  sent(count: number, data: SendData): void {
    this.#items.push(encodeMessage(data));
    this.#sent = count;
    this.engine.queue(this);
  }

  confirmed(count: number): void {
    this.#confirmed = count;
    this.engine.queue(this);
  }

  received(count: number): void {
    this.#received = count;
    this.engine.queue(this);
  }

  changed(): void {
    this.#changed = true;
    this.engine.queue(this);
  }

  broken(reason: string): void {
    this.failure ??= reason;
  }

  /** The pending writes as batch records (see the batch script), then forgets them. */
  take(): (string | Buffer)[][] {
    const fields: string[] = [];
    const connection = this.session.connection;
    if (this.unsaved) {
      fields.push("owner", this.engine.hooks.originHex, "route", this.session.route, "first", "1", "received", "0");
    }
    if (this.#changed) fields.push(...savedFields(connection));
    if (this.#received >= 0) fields.push("received", String(this.#received));
    // The list holds the messages numbered `first` onwards: after a trim, those after the last one confirmed.
    if (this.#confirmed >= 0) fields.push("first", String(this.#confirmed + 1));
    const ttl = String(this.session.limits.window * 1000 + EXPIRY_MARGIN_MS);
    const records: (string | Buffer)[][] = [];
    const items = this.#items;
    const chunk = MAX_BATCH_ARGS / 2;
    for (let start = 0; start < items.length || records.length === 0; start += chunk) {
      const part = items.slice(start, start + chunk);
      const last = start + part.length >= items.length;
      const recordFields = records.length === 0 ? fields : [];
      const expiry = records.length > 0 ? "-" : this.unsaved ? "c" : this.#refresh ? "r" : "-";
      const keep = last && this.#confirmed >= 0 ? String(this.#sent - this.#confirmed) : "-1";
      records.push([
        expiry,
        ttl,
        String(recordFields.length / 2),
        String(part.length),
        keep,
        ...recordFields,
        ...part,
      ]);
    }
    this.unsaved = this.#changed = this.#refresh = false;
    this.#items = [];
    this.#confirmed = this.#received = -1;
    return records;
  }
}

/** The hash fields of a connection's saved form (without counts). */
function savedFields(
  { protocol, params, state, topics }: { protocol: string; params: object; state: unknown; topics: readonly string[] },
): string[] {
  return [
    "protocol",
    protocol,
    "params",
    JSON.stringify(params),
    "state",
    state === undefined ? "" : JSON.stringify(state),
    "topics",
    JSON.stringify(topics),
  ];
}

/**
 * Session `id` as its holder saved it when it gave it up (`fields` of its hash, `items` of its list), or
 * `undefined` if it is incomplete (the id itself is not in Redis: its digest names the keys).
 */
function movedSession(
  id: string,
  route: string,
  fields: Record<string, string>,
  items: Buffer[],
): MovedSession | undefined {
  if (fields.route !== route || fields.sent === undefined || fields.received === undefined) return undefined;
  return {
    id,
    route,
    protocol: fields.protocol ?? "",
    params: JSON.parse(fields.params ?? "{}"),
    state: fields.state ? JSON.parse(fields.state) : undefined,
    topics: JSON.parse(fields.topics ?? "[]"),
    sent: Number(fields.sent),
    received: Number(fields.received),
    replay: items.map(decodeMessage),
  };
}

/** `HGETALL`'s reply (a flat list on RESP2, a map on RESP3) as an object. */
function hashOf(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) return Object.fromEntries(Object.entries(reply as object).map(([k, v]) => [k, String(v)]));
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) hash[String(reply[i])] = String(reply[i + 1]);
  return hash;
}

/** A message as the list keeps it: a type byte (`t` or `b`), then its text or bytes. */
function encodeMessage(data: SendData): string | Buffer {
  if (typeof data === "string") return "t" + data;
  const bytes = ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
  return Buffer.concat([BINARY, bytes]);
}

function decodeMessage(item: Buffer): SendData {
  if (item[0] === TEXT) return item.toString("utf8", 1);
  return item.buffer.slice(item.byteOffset + 1, item.byteOffset + item.length) as ArrayBuffer;
}

/** The name of a session's keys: a digest of its id (128 of SHA-256's bits, base64url), which Redis never sees. */
function digestOf(id: string): string {
  return createHash("sha256").update(id).digest().subarray(0, 16).toString("base64url");
}
