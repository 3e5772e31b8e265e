/**
 * The session's persistence hooks (src/core/session.ts): what a {@link SessionJournal} is told as a session lives,
 * a journal that ends windows itself (`expires`) or acknowledges itself (`acknowledges`), and the restore path (`Session.restore`, `SessionLink.rejoin`,
 * `lostLink`), with in-memory fakes. The Durable Object's journal on real workerd:
 * test/adapters/cloudflare-durable-resume.test.ts.
 */
import { describe, expect, test } from "vitest";
import { Connection } from "../../src/core/connection.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import type { Message, SendData } from "../../src/core/message.ts";
import { resolveOptions } from "../../src/core/options.ts";
import { Runtime } from "../../src/core/runtime.ts";
import {
  NOT_FOUND_REASON,
  type SavedSession,
  Session,
  SESSION_EXPIRED_REASON,
  type SessionJournal,
  SessionLink,
  SessionStore,
} from "../../src/core/session.ts";
import { control } from "../../src/protocol/resume.ts";
import { FakeBufferedTransport } from "./fakes.ts";

/** A journal that records what it is told, as `hook:sentCount/receivedCount/pending`. */
class RecordingJournal implements SessionJournal {
  readonly calls: string[] = [];
  constructor(readonly expires: boolean, readonly acknowledges = false) {}
  #note(hook: string, session: Session): void {
    this.calls.push(`${hook}:${session.sentCount}/${session.receivedCount}/${session.pending}`);
  }
  started(session: Session): void {
    this.#note("started", session);
  }
  sent(session: Session, data: SendData): void {
    this.#note(`sent ${String(data)}`, session);
  }
  confirmed(session: Session): void {
    this.#note("confirmed", session);
  }
  received(session: Session): void {
    this.#note("received", session);
  }
  detached(session: Session): void {
    this.#note("detached", session);
  }
  attached(session: Session): void {
    this.#note("attached", session);
  }
  ended(session: Session): void {
    this.#note("ended", session);
  }
}

/** A handler that records its hooks. */
class Recorder extends WebSocketHandler {
  readonly hooks: string[] = [];
  override open(): void {
    this.hooks.push("open");
  }
  override onMessage(message: Message): void {
    this.hooks.push(`message ${String(message)}`);
  }
  override onDisconnect(): void {
    this.hooks.push("disconnect");
  }
  override onResume(): void {
    this.hooks.push("resume");
  }
  override onClose(code: number, reason: string): void {
    this.hooks.push(`close ${code} ${reason}`);
  }
}

const LIMITS = resolveOptions({ resume: { window: 0.05 } });

function server(expires: boolean, acknowledges = false) {
  const journal = new RecordingJournal(expires, acknowledges);
  const runtime = new Runtime({ upgrade: () => new Response(null), sessions: new SessionStore(journal) });
  /** A new socket of `/room` that says hello (with `id` to resume). */
  const socket = (id = "", received = 0) => {
    const handler = new Recorder();
    const link = new SessionLink(new Connection(handler, LIMITS, undefined, runtime), "/room");
    const transport = new FakeBufferedTransport();
    link.open(transport);
    link.receive(control("h", received, id));
    return { link, transport, handler, session: link.session! };
  };
  return { journal, runtime, store: runtime.sessions!, socket };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a session's journal", () => {
  test("is told of each change, in order, with the counts as they are then", () => {
    const { journal, socket } = server(true);
    const { link, session } = socket();
    session.connection.send("s1");
    session.connection.send("s2");
    link.receive("c1");
    link.receive(control("a", 1));
    link.receive(control("a", 1)); // nothing new confirmed: not told
    link.closed(1006, "");
    const again = socket(session.id, 1);
    expect(again.session).toBe(session);
    again.link.closed(1000, "bye");
    expect(journal.calls).toEqual([
      "started:0/0/0",
      "sent s1:1/0/1",
      "sent s2:2/0/2",
      "received:2/1/2",
      "confirmed:2/1/1",
      "detached:2/1/1",
      "attached:2/1/1",
      "ended:2/1/0",
    ]);
  });

  test("a journal that expires windows itself: no timer ends the session; expire() does, once", async () => {
    const { journal, socket, store } = server(true);
    const { link, session, handler } = socket();
    link.closed(1006, "");
    expect(session.deadline).toBeGreaterThan(Date.now());
    await sleep(100); // past the 50 ms window
    expect(session.phase).toBe("detached");
    session.expire();
    session.expire();
    expect(handler.hooks).toEqual(["open", "disconnect", `close 1006 ${SESSION_EXPIRED_REASON}`]);
    expect(journal.calls.at(-1)).toBe("ended:0/0/0");
    expect(store.size).toBe(0);
  });

  test("a window over whose alarm is late: the hello finds no session, the client gets a new one", async () => {
    const { socket } = server(true);
    const first = socket();
    first.link.closed(1006, "");
    await sleep(100);
    const again = socket(first.session.id);
    expect(again.session).not.toBe(first.session);
    expect(String(again.transport.sent[0])).toBe(control("w", 0, 0, again.session.id, NOT_FOUND_REASON));
    expect(first.handler.hooks.at(-1)).toBe(`close 1006 ${SESSION_EXPIRED_REASON}`);
  });

  test("a journal that acknowledges: the session sends none itself; acknowledge() sends what is new, once", async () => {
    const { socket } = server(true, true);
    const { link, session, transport } = socket();
    const frames = () => transport.sent.map(String).slice(1); // after the welcome
    for (let i = 1; i <= 70; i++) link.receive(`c${i}`); // past the 64 after which a session acknowledges
    await sleep(150); // past the 100 ms after which it would too
    expect(frames()).toEqual([]);
    session.acknowledge();
    session.acknowledge();
    expect(frames()).toEqual([control("a", 70)]);
    link.receive("c71");
    session.acknowledge();
    expect(frames()).toEqual([control("a", 70), control("a", 71)]);
    link.receive("c72");
    link.closed(1006, "");
    session.acknowledge(); // detached: nothing to send it on (the next welcome tells the count)
    expect(frames()).toEqual([control("a", 70), control("a", 71)]);
  });

  test("a journal that acknowledges: the timer of an emptied replay buffer sends no acknowledgement either", async () => {
    const { socket } = server(true, true);
    const { link, session, transport } = socket();
    link.receive("c1");
    session.connection.send("s1");
    link.receive(control("a", 1)); // empties the replay buffer
    await sleep(150);
    expect(transport.sent.map(String).slice(1)).toEqual(["s1"]);
    expect(session.replayRoom).toBe(0);
  });

  test("a journal that does not acknowledge: the session does, after 64 messages", () => {
    const { socket } = server(true);
    const { link, transport } = socket();
    for (let i = 1; i <= 64; i++) link.receive(`c${i}`);
    expect(transport.sent.map(String).slice(1)).toEqual([control("a", 64)]);
  });

  test("without `expires`, the session's own timer ends the window", async () => {
    const { socket } = server(false);
    const { link, session, handler } = socket();
    link.closed(1006, "");
    await expect.poll(() => session.phase, { timeout: 2000, interval: 10 }).toBe("ended");
    expect(handler.hooks.at(-1)).toBe(`close 1006 ${SESSION_EXPIRED_REASON}`);
  });
});

describe("a session restored from what a journal saved", () => {
  function restore(store: SessionStore, runtime: Runtime, saved: SavedSession, replay: SendData[] = []) {
    const handler = new Recorder();
    const session = Session.restore(
      saved,
      LIMITS.resume!,
      store,
      replay,
      (session) =>
        Connection.restore(handler, LIMITS, runtime, { protocol: "", params: { room: "r" }, state: { n: 1 } }, session),
    );
    return { session, handler };
  }

  test("comes back detached, with its counts, replay and handler; no hook runs", () => {
    const { store, runtime } = server(true);
    const { session, handler } = restore(store, runtime, { id: "a", route: "/room", sent: 5, received: 3 }, [
      "s4",
      "s5",
    ]);
    expect(store.get("a")).toBe(session);
    expect(session).toMatchObject({ phase: "detached", sentCount: 5, receivedCount: 3, pending: 2 });
    expect([...session.unconfirmed()]).toEqual(["s4", "s5"]);
    expect(session.connection.state).toEqual({ n: 1 });
    expect(session.connection.params).toEqual({ room: "r" });
    expect(handler.hooks).toEqual([]);
  });

  test("its socket rejoins it: attached again, no replay, no hook; messages count on", () => {
    const { store, runtime, journal } = server(true);
    const { session, handler } = restore(store, runtime, { id: "b", route: "/room", sent: 2, received: 1 }, ["s2"]);
    const transport = new FakeBufferedTransport();
    const link = SessionLink.rejoin(session, transport)!;
    expect(SessionLink.rejoin(session, new FakeBufferedTransport())).toBeUndefined(); // one socket carries it
    expect(session.phase).toBe("attached");
    expect(session.link).toBe(link);
    expect(link.session).toBe(session);
    expect(transport.sent).toEqual([]);
    link.receive("c2");
    expect(session.receivedCount).toBe(2);
    expect(handler.hooks).toEqual(["message c2"]);
    expect(journal.calls).toEqual(["received:2/2/1"]); // the rejoin changed nothing the journal keeps
  });

  test("one saved with a socket that none rejoins: lostLink() detaches it as a dropped socket would", () => {
    const { store, runtime, journal } = server(true);
    const { session, handler } = restore(store, runtime, { id: "c", route: "/room", sent: 0, received: 0 });
    session.lostLink();
    session.lostLink();
    expect(session.phase).toBe("detached");
    expect(session.deadline).toBeGreaterThan(Date.now());
    // Its socket's close, told late, finds no session to rejoin: onDisconnect ran once.
    expect(SessionLink.rejoin(session, new FakeBufferedTransport())).toBeUndefined();
    expect(handler.hooks).toEqual(["disconnect"]);
    expect(journal.calls).toEqual(["detached:0/0/0"]);
  });

  test("one saved detached keeps its deadline, and a hello resumes it with its replay", () => {
    const { store, runtime, socket } = server(true);
    const deadline = Date.now() + 60_000;
    const { session, handler } = restore(
      store,
      runtime,
      { id: "d", route: "/room", sent: 3, received: 2, deadline },
      ["s2", "s3"],
    );
    session.lostLink(); // saved detached: nothing to do
    expect(session.deadline).toBe(deadline);
    const again = socket("d", 1);
    expect(again.session).toBe(session);
    expect(again.transport.sent.map(String)).toEqual([control("w", 2, 1, "d"), "s2", "s3"]);
    expect(handler.hooks).toEqual(["resume"]);
  });

  test("one saved with a deadline, without a journal that expires: its own timer ends it", async () => {
    const { store, runtime } = server(false);
    const { session, handler } = restore(store, runtime, {
      id: "e",
      route: "/room",
      sent: 0,
      received: 0,
      deadline: Date.now() + 20,
    });
    await expect.poll(() => session.phase, { timeout: 2000, interval: 10 }).toBe("ended");
    expect(handler.hooks).toEqual([`close 1006 ${SESSION_EXPIRED_REASON}`]);
  });
});
