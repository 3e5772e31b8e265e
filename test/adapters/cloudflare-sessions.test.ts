/**
 * The Durable Object's session journal (src/adapters/cloudflare-sessions.ts) against a storage in memory that
 * counts writes: what an interval writes, when the client's messages are acknowledged, messages larger than a chunk,
 * and what a restore gives back. (The same journal on real workerd, through hibernation and eviction:
 * test/adapters/cloudflare-durable-resume.test.ts.)
 */
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Connection } from "../../src/core/connection.ts";
import { DEFAULT_RESUME } from "../../src/core/options.ts";
import type { SendData } from "../../src/core/message.ts";
import { type Session, SessionStore } from "../../src/core/session.ts";
import { DurableSessions, type SyncKvStorage } from "../../src/adapters/cloudflare-sessions.ts";

/** `ctx.storage.kv` in memory (values cloned as the platform does), counting puts and deletes. */
class MemoryKv implements SyncKvStorage {
  readonly entries = new Map<string, unknown>();
  puts = 0;
  deletes = 0;

  get(key: string): unknown {
    return structuredClone(this.entries.get(key));
  }

  put(key: string, value: unknown): void {
    this.puts++;
    this.entries.set(key, structuredClone(value));
  }

  delete(key: string): boolean {
    this.deletes++;
    return this.entries.delete(key);
  }

  *list({ prefix }: { prefix: string }): Iterable<[string, unknown]> {
    const keys = [...this.entries.keys()].filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) yield [key, this.get(key)];
  }
}

/** The journal's view of a session: what it reads of one, and the acknowledgements it is asked to send. */
class FakeSession {
  sentCount = 0;
  receivedCount = 0;
  pending = 0;
  /** What each acknowledgement confirmed, and how many writes the storage had seen when it was sent. */
  readonly acknowledged: { received: number; puts: number }[] = [];
  #acknowledgedCount = 0;
  deadline: number | undefined;
  readonly link = undefined;
  readonly route = "/room";
  readonly limits = DEFAULT_RESUME;
  readonly connection = { state: { name: "ann" }, topics: ["room"] } as unknown as Connection;

  constructor(readonly id: string, readonly kv?: MemoryKv) {}

  acknowledge(): void {
    if (this.receivedCount === this.#acknowledgedCount) return;
    this.#acknowledgedCount = this.receivedCount;
    this.acknowledged.push({ received: this.receivedCount, puts: this.kv?.puts ?? 0 });
  }

  receive(journal: DurableSessions): void {
    this.receivedCount++;
    journal.received(this as unknown as Session);
  }

  send(journal: DurableSessions, data: SendData): void {
    this.sentCount++;
    this.pending++;
    journal.sent(this as unknown as Session, data);
  }

  confirm(journal: DurableSessions, count: number): void {
    this.pending = this.sentCount - count;
    journal.confirmed(this as unknown as Session);
  }
}

/** A journal on `kv`, with the alarm calls recorded. */
function journalOn(kv: MemoryKv, alarms: (number | null)[] = []): DurableSessions {
  return new DurableSessions(kv, {
    kv,
    setAlarm: (time) => (alarms.push(time), Promise.resolve()),
    deleteAlarm: () => (alarms.push(null), Promise.resolve()),
  }, {
    save: () => ({ handler: 0, topics: ["room"], protocol: "", params: { room: "r" }, limits: {} }),
    serves: (saved) => saved.handler === 0,
    rebuild: (_saved, state) => ({ state }) as unknown as Connection,
    attach: () => {},
  });
}

/** How long what changes in an attached session waits to be written (the module's `LAZY_MS`). */
const INTERVAL = 1000;

/** The end of the current turn, when the journal writes a start or a detach. */
const endOfTurn = () => Promise.resolve();

/** Restores what `kv` holds with a new journal: the sessions, and each one's messages kept for the client. */
function restored(kv: MemoryKv): Session[] {
  const journal = journalOn(kv);
  const store = new SessionStore(journal);
  journal.restore(store);
  return [...store];
}

/** A journal on a new storage, with one session started and its start written. */
async function started(id: string) {
  const kv = new MemoryKv();
  const alarms: (number | null)[] = [];
  const journal = journalOn(kv, alarms);
  const session = new FakeSession(id, kv);
  journal.started(session as unknown as Session);
  await endOfTurn();
  expect(kv.puts).toBe(1); // its record
  return { kv, alarms, journal, session };
}

describe("the Durable Object's session journal", () => {
  // The journal's interval is a timer: each test moves the clock itself.
  vi.useFakeTimers();
  afterEach(() => vi.clearAllTimers());

  test("what a session changes in an interval is one write, however many events: its record and one chunk", async () => {
    const { kv, journal, session } = await started("s1");
    // 20 events over 80% of the interval, each a message from the client and its echo (2 in one event, 40 in all).
    for (let event = 1; event <= 20; event++) {
      session.receive(journal);
      session.send(journal, `m${2 * event - 1}`);
      session.send(journal, `m${2 * event}`);
      await endOfTurn();
      vi.advanceTimersByTime(INTERVAL / 25);
    }
    expect(kv.puts).toBe(1);
    // The pending write is a timer: the object cannot hibernate (nor be evicted) before it ran.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(INTERVAL / 5);
    expect(kv.puts).toBe(3); // the record and one chunk of 40 messages
    expect(vi.getTimerCount()).toBe(0);

    const [back] = restored(kv);
    expect([...back!.unconfirmed()]).toEqual(Array.from({ length: 40 }, (_, i) => `m${i + 1}`));
    expect(back).toMatchObject({ id: "s1", route: "/room", sentCount: 40, receivedCount: 20, phase: "detached" });

    // The next interval: its own chunk.
    for (let i = 41; i <= 50; i++) session.send(journal, `m${i}`);
    vi.advanceTimersByTime(INTERVAL);
    expect(kv.puts).toBe(5);
    expect([...restored(kv)[0]!.unconfirmed()]).toHaveLength(50);
  });

  test("the client's messages are acknowledged once written, in the same turn as the write", async () => {
    const { kv, journal, session } = await started("s2");
    for (let i = 0; i < 3; i++) session.receive(journal);
    vi.advanceTimersByTime(INTERVAL - 1);
    expect(session.acknowledged).toEqual([]);
    vi.advanceTimersByTime(1);
    // Sent right after the record that counts them: the object's output gate holds it until that is committed.
    expect(session.acknowledged).toEqual([{ received: 3, puts: kv.puts }]);
    expect(restored(kv)[0]!.receivedCount).toBe(3);

    // A write with nothing new from the client acknowledges nothing.
    session.send(journal, "x");
    vi.advanceTimersByTime(INTERVAL);
    expect(session.acknowledged).toHaveLength(1);
  });

  test("confirmed chunks are deleted with the next write; one confirmed before it was written is never written", async () => {
    const { kv, journal, session } = await started("s3");
    for (let i = 1; i <= 10; i++) session.send(journal, `a${i}`);
    vi.advanceTimersByTime(INTERVAL);
    for (let i = 1; i <= 10; i++) session.send(journal, `b${i}`);
    vi.advanceTimersByTime(INTERVAL);
    const before = kv.puts;
    session.confirm(journal, 12); // the first chunk and 2 of the second
    vi.advanceTimersByTime(INTERVAL);
    expect(kv.puts).toBe(before + 1); // the record
    expect(kv.deletes).toBe(1); // the first chunk
    expect([...restored(kv)[0]!.unconfirmed()]).toEqual(["b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10"]);

    // Sent and confirmed within one interval: only the record is written.
    for (let i = 1; i <= 5; i++) session.send(journal, `c${i}`);
    session.confirm(journal, 25);
    vi.advanceTimersByTime(INTERVAL);
    expect(kv.puts).toBe(before + 2);
    expect(kv.deletes).toBe(2); // the second chunk
    expect([...kv.entries.keys()]).toEqual(["edgesocket:session:s3"]);
    expect(restored(kv)[0]).toMatchObject({ sentCount: 25, pending: 0 });
  });

  test("what the client confirmed of a chunk before its write is dropped from it, not written", async () => {
    const { kv, journal, session } = await started("s6");
    for (let i = 1; i <= 1000; i++) session.send(journal, `m${i}`);
    session.confirm(journal, 990);
    vi.advanceTimersByTime(INTERVAL);
    const chunks = [...kv.list({ prefix: "edgesocket:replay:" })].map(([, value]) => value);
    expect(chunks).toEqual([{ first: 991, messages: Array.from({ length: 10 }, (_, i) => `m${991 + i}`) }]);
    // The chunk's rest and what follows in the next interval come back in order.
    for (let i = 1001; i <= 1005; i++) session.send(journal, `m${i}`);
    session.confirm(journal, 995);
    vi.advanceTimersByTime(INTERVAL);
    expect([...restored(kv)[0]!.unconfirmed()]).toEqual(Array.from({ length: 10 }, (_, i) => `m${996 + i}`));
  });

  test("a detach is written at the end of its turn, a resume at once, without waiting for the interval", async () => {
    const { kv, alarms, journal, session } = await started("s4");
    session.send(journal, "kept");
    session.receive(journal);
    const deadline = session.deadline = Date.now() + 60_000;
    journal.detached(session as unknown as Session);
    expect(alarms).toEqual([deadline]);
    await endOfTurn();
    expect(kv.puts).toBe(3); // the chunk and the record
    expect(vi.getTimerCount()).toBe(0);
    expect(restored(kv)[0]).toMatchObject({ deadline, sentCount: 1, receivedCount: 1 });

    session.receive(journal); // e.g. resumed from another socket before the server saw the first one drop
    session.deadline = undefined;
    journal.attached(session as unknown as Session);
    // Before the welcome goes out, in the same turn: the output gate holds the welcome until this is committed.
    expect(kv.puts).toBe(4);
    expect(restored(kv)[0]).toMatchObject({ deadline: undefined, receivedCount: 2 });
    expect(alarms).toEqual([deadline, null]);
  });

  test("a message larger than a chunk is split over several and comes back whole, text and binary", () => {
    const kv = new MemoryKv();
    const journal = journalOn(kv);
    const session = new FakeSession("s5");
    journal.started(session as unknown as Session);
    const text = "é".repeat(700_000); // 1.4 MB counted, over two chunks' worth
    const bytes = Uint8Array.from({ length: 1_300_000 }, (_, i) => i % 251);
    const view = new DataView(new ArrayBuffer(2_000_000), 1000, 600_000); // a view: only its own bytes are kept
    session.send(journal, "before");
    session.send(journal, text);
    session.send(journal, bytes);
    session.send(journal, view);
    session.send(journal, "after");
    vi.advanceTimersByTime(INTERVAL);
    for (const [, value] of kv.list({ prefix: "edgesocket:replay:" })) {
      const size = (value as { messages: SendData[] }).messages
        .reduce((sum: number, m) => sum + (typeof m === "string" ? m.length * 2 : m.byteLength), 0);
      expect(size).toBeLessThanOrEqual(512 * 1024);
    }
    const [back] = restored(kv);
    const messages = [...back!.unconfirmed()];
    expect(messages.length).toBe(5);
    expect(messages[0]).toBe("before");
    expect(messages[1]).toBe(text);
    expect(Buffer.from(messages[2] as Uint8Array).equals(bytes)).toBe(true);
    expect((messages[3] as Uint8Array).byteLength).toBe(600_000);
    expect(messages[4]).toBe("after");

    // Confirmed up to the text: its chunks go, the binary's stay whole.
    session.confirm(journal, 2);
    vi.advanceTimersByTime(INTERVAL);
    const [later] = restored(kv);
    expect([...later!.unconfirmed()].map((m) => typeof m === "string" ? m : m.byteLength))
      .toEqual([1_300_000, 600_000, "after"]);
  });

  test("a detached session's deadline sets the alarm; the end of the session deletes it and its storage", async () => {
    const { kv, alarms, journal, session } = await started("s6");
    session.send(journal, "kept");
    session.deadline = Date.now() + 60_000;
    journal.detached(session as unknown as Session);
    expect(alarms).toEqual([session.deadline]);
    await endOfTurn();
    expect(restored(kv)[0]!.deadline).toBe(session.deadline);
    session.send(journal, "not yet written"); // a publication while detached
    journal.ended(session as unknown as Session);
    expect(alarms).toEqual([session.deadline, null]);
    vi.advanceTimersByTime(INTERVAL);
    expect([...kv.entries.keys()]).toEqual([]);
  });
});
