/**
 * The Durable Object's session journal (src/adapters/cloudflare-sessions.ts) against a storage in memory that
 * counts writes: what one turn writes, messages larger than a chunk, and what a restore gives back. (The same
 * journal on real workerd: test/adapters/cloudflare-durable-resume.test.ts.)
 */
import { Buffer } from "node:buffer";
import { describe, expect, test } from "vitest";
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

/** The journal's view of a session: what it reads of one. */
class FakeSession {
  sentCount = 0;
  receivedCount = 0;
  pending = 0;
  deadline: number | undefined;
  readonly link = undefined;
  readonly route = "/room";
  readonly limits = DEFAULT_RESUME;
  readonly connection = { state: { name: "ann" }, topics: ["room"] } as unknown as Connection;

  constructor(readonly id: string) {}

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

/** The end of the current turn, when the journal writes. */
const endOfTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Restores what `kv` holds with a new journal: the sessions, and each one's messages kept for the client. */
function restored(kv: MemoryKv): Session[] {
  const journal = journalOn(kv);
  const store = new SessionStore(journal);
  journal.restore(store);
  return [...store];
}

describe("the Durable Object's session journal", () => {
  test("one turn writes the session's record and its new messages once, however many were sent", async () => {
    const kv = new MemoryKv();
    const journal = journalOn(kv);
    const session = new FakeSession("s1");
    journal.started(session as unknown as Session);
    for (let i = 1; i <= 100; i++) session.send(journal, `m${i}`);
    expect(kv.puts).toBe(0);
    await endOfTurn();
    expect(kv.puts).toBe(2); // the record and one chunk of 100 messages
    for (let i = 101; i <= 150; i++) session.send(journal, `m${i}`);
    await endOfTurn();
    expect(kv.puts).toBe(4); // the next turn: its own chunk

    const [back] = restored(kv);
    expect([...back!.unconfirmed()]).toEqual(Array.from({ length: 150 }, (_, i) => `m${i + 1}`));
    expect(back).toMatchObject({ id: "s1", route: "/room", sentCount: 150, phase: "detached" });
  });

  test("what the client sent and confirmed is written within 100 ms, and confirmed chunks are deleted then", async () => {
    const kv = new MemoryKv();
    const journal = journalOn(kv);
    const session = new FakeSession("s2");
    journal.started(session as unknown as Session);
    for (let i = 1; i <= 10; i++) session.send(journal, `a${i}`);
    await endOfTurn();
    for (let i = 1; i <= 10; i++) session.send(journal, `b${i}`);
    await endOfTurn();
    const before = kv.puts;
    session.receivedCount = 7;
    journal.received(session as unknown as Session);
    session.confirm(journal, 12); // the first chunk and 2 of the second
    await endOfTurn();
    expect(kv.puts).toBe(before); // not yet
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(kv.puts).toBe(before + 1); // the record
    expect(kv.deletes).toBe(1); // the first chunk
    const [back] = restored(kv);
    expect(back!.receivedCount).toBe(7);
    expect([...back!.unconfirmed()]).toEqual(["b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10"]);
  });

  test("a message larger than a chunk is split over several and comes back whole, text and binary", async () => {
    const kv = new MemoryKv();
    const journal = journalOn(kv);
    const session = new FakeSession("s3");
    journal.started(session as unknown as Session);
    const text = "é".repeat(700_000); // 1.4 MB counted, over two chunks' worth
    const bytes = Uint8Array.from({ length: 1_300_000 }, (_, i) => i % 251);
    const view = new DataView(new ArrayBuffer(2_000_000), 1000, 600_000); // a view: only its own bytes are kept
    session.send(journal, "before");
    session.send(journal, text);
    session.send(journal, bytes);
    session.send(journal, view);
    session.send(journal, "after");
    await endOfTurn();
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
    await new Promise((resolve) => setTimeout(resolve, 150));
    const [later] = restored(kv);
    expect([...later!.unconfirmed()].map((m) => typeof m === "string" ? m : m.byteLength))
      .toEqual([1_300_000, 600_000, "after"]);
  });

  test("a detached session's deadline sets the alarm; the end of the session deletes it and its storage", async () => {
    const kv = new MemoryKv();
    const alarms: (number | null)[] = [];
    const journal = journalOn(kv, alarms);
    const session = new FakeSession("s4");
    journal.started(session as unknown as Session);
    session.send(journal, "kept");
    session.deadline = Date.now() + 60_000;
    journal.detached(session as unknown as Session);
    expect(alarms).toEqual([session.deadline]);
    await endOfTurn();
    expect(restored(kv)[0]!.deadline).toBe(session.deadline);
    journal.ended(session as unknown as Session);
    expect(alarms).toEqual([session.deadline, null]);
    await endOfTurn();
    expect([...kv.entries.keys()]).toEqual([]);
  });
});
