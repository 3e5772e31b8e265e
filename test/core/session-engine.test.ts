/**
 * The core's side of a session engine (src/core/session-engine.ts), with a fake engine that shares sessions between
 * two in-process servers: what a session reports to its journal, how one is handed over (no `onClose`) and rebuilt
 * on the other server (a new handler; `open` not run again, `onResume` run; state, params and topics restored; what
 * the client missed replayed), and where `onClose` runs. The engine over Redis: test/backplane/sessions.test.ts.
 */
import type { Context } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection, type Transport } from "../../src/core/connection.ts";
import { CloseCode, ReadyState } from "../../src/core/constants.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import type { Message, SendData } from "../../src/core/message.ts";
import { resolveOptions } from "../../src/core/options.ts";
import { Runtime } from "../../src/core/runtime.ts";
import type { MovedSession, SessionEngine } from "../../src/core/session-engine.ts";
import { NOT_FOUND_REASON, type Session, SessionLink } from "../../src/core/session.ts";

const LIMITS = resolveOptions({ idleTimeout: 0, resume: { window: 30 } });
const ROUTE = "/room/:room";

afterEach(() => {
  vi.useRealTimers();
});

/** A socket's transport that records what the link writes. */
class Socket implements Transport {
  sent: SendData[] = [];
  closes: [number | undefined, string | undefined][] = [];
  send(data: SendData): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closes.push([code, reason]);
  }
}

/** A handler that records its hooks; "state=x" sets state, "join=t" subscribes, "slow" makes onMessage async. */
class Recorder extends WebSocketHandler {
  log: string[] = [];
  release: (() => void) | undefined;
  override open(params: Record<string, string>): void {
    this.log.push(`open ${JSON.stringify(params)}`);
  }
  override onMessage(message: Message): void | Promise<void> {
    const text = String(message);
    this.log.push(`message ${text}`);
    if (text.startsWith("state=")) this.state = text.slice(6);
    if (text.startsWith("join=")) this.subscribe(text.slice(5));
    if (text === "slow") return new Promise((resolve) => this.release = resolve);
  }
  override onDisconnect(): void {
    this.log.push("disconnect");
  }
  override onResume(): void {
    this.log.push("resume");
  }
  override onClose(code: number, reason: string): void {
    this.log.push(`close ${code} ${reason}`);
  }
}

/** What a fake journal was told, in order. */
type Entry = string;

/**
 * Sessions shared by the servers that start it: a session asked for on one server is handed over by the server that
 * holds it. `held` answers every journal's `end()`.
 */
class SharedSessions implements SessionEngine {
  readonly runtimes: Runtime[] = [];
  readonly journals = new Map<Session, Entry[]>();
  held = true;
  /** Makes `end()` and `takeOver()` fail, as a store out of reach would. */
  failing = false;
  start(runtime: Runtime): void {
    this.runtimes.push(runtime);
  }
  #log(session: Session, entry: Entry): void {
    let log = this.journals.get(session);
    if (!log) this.journals.set(session, log = []);
    log.push(entry);
  }
  started(session: Session): void {
    this.#log(session, "started");
  }
  sent(session: Session, data: SendData): void {
    this.#log(session, `sent ${session.sentCount} ${data}`);
  }
  confirmed(session: Session): void {
    this.#log(session, `confirmed: ${session.pending} of ${session.sentCount} kept`);
  }
  received(session: Session): void {
    this.#log(session, `received ${session.receivedCount}`);
  }
  changed(session: Session): void {
    this.#log(session, "changed");
  }
  detached(session: Session): void {
    this.#log(session, "detached");
  }
  attached(session: Session): void {
    this.#log(session, "attached");
  }
  ended(session: Session): Promise<boolean> {
    this.#log(session, "ended");
    return this.failing ? Promise.reject(new Error("store away")) : Promise.resolve(this.held);
  }
  takeOver(id: string, route: string, adopt: (moved: MovedSession) => Session): Promise<Session | undefined> {
    if (this.failing) return Promise.reject(new Error("store away"));
    const holder = this.runtimes.map((runtime) => runtime.sessions!.get(id)).find(Boolean);
    const saved = holder?.route === route ? holder.handOver() : undefined;
    return Promise.resolve(saved && adopt(saved));
  }
}

/** A server of the engine, and sockets to it. */
function server(engine: SessionEngine) {
  const runtime = new Runtime({ upgrade: () => new Response(null), sessions: engine });
  return {
    runtime,
    /** A new socket on the route, with the handler made at its upgrade (route params `room: r1`). */
    connect<S extends Socket = Socket>(socket: S = new Socket() as S) {
      const handler = new Recorder();
      const context = { req: { param: () => ({ room: "r1" }) } } as unknown as Context;
      const link = new SessionLink(new Connection(handler, LIMITS, context, runtime), ROUTE);
      link.open(socket);
      return { handler, link, socket };
    },
  };
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
/** The id in the welcome the socket got. */
const welcomeOf = (socket: Socket) => String(socket.sent.find((frame) => String(frame).startsWith("\0w"))).split(" ");

describe("a session with an engine", () => {
  it("tells its journal what it sends, what the client confirms and received, what changes, and its end", async () => {
    const engine = new SharedSessions();
    const { connect } = server(engine);
    const { handler, link, socket } = connect();
    link.receive("\0h0 ");
    const session = [...engine.journals.keys()][0]!;
    handler.send("one");
    handler.send("two");
    link.receive("state=kept");
    link.receive("join=news");
    link.receive("\0a1");
    link.closed(CloseCode.GOING_AWAY, "bye");
    await settle();
    expect(engine.journals.get(session)).toEqual([
      "started",
      "sent 1 one",
      "sent 2 two",
      "received 1",
      "changed",
      "received 2",
      "changed",
      "confirmed: 1 of 2 kept",
      "ended",
    ]);
    expect(socket.sent).toHaveLength(3); // the welcome and two messages
    expect(handler.log.at(-1)).toBe("close 1001 bye");
  });

  it("ends without onClose when its engine says another server took it meanwhile", async () => {
    const engine = new SharedSessions();
    engine.held = false;
    const { connect, runtime } = server(engine);
    const { handler, link } = connect();
    link.receive("\0h0 ");
    link.closed(CloseCode.NORMAL, "");
    await settle();
    expect(handler.log).toEqual(['open {"room":"r1"}']);
    expect(handler.readyState).toBe(ReadyState.CLOSED);
    expect(runtime.connections.size).toBe(0);
  });

  it("moves to another server: no onClose there; a new handler here with its state, params and topics", async () => {
    const engine = new SharedSessions();
    const [a, b] = [server(engine), server(engine)];
    const first = a.connect();
    first.link.receive("\0h0 ");
    const id = welcomeOf(first.socket)[2]!;
    first.link.receive("state=kept");
    first.link.receive("join=news");
    first.handler.send("s1");
    first.handler.send("s2");
    a.runtime.pubsub!.publish("news", "n1");

    // The client got s1 only, and comes back to server B while A still thinks its socket is open.
    const second = b.connect();
    second.link.receive(`\0h1 ${id}`);
    await settle();
    expect(first.socket.closes).toEqual([[CloseCode.POLICY_VIOLATION, "session resumed on another connection"]]);
    expect(first.handler.log).toEqual(['open {"room":"r1"}', "message state=kept", "message join=news", "disconnect"]);
    expect(first.handler.readyState).toBe(ReadyState.CLOSED);
    expect(a.runtime.sessions!.size + a.runtime.connections.size + a.runtime.pubsub!.subscribers("news")).toBe(0);

    // B's handler: rebuilt, not opened; the welcome says B has the client's 2 messages, then the replay.
    expect(second.handler.log).toEqual(["resume"]);
    expect(second.socket.sent).toEqual([`\0w2 1 ${id}`, "s2", "n1"]);
    expect([second.handler.state, second.handler.params, second.handler.topics]).toEqual([
      "kept",
      { room: "r1" },
      ["news"],
    ]);
    b.runtime.pubsub!.publish("news", "n2");
    second.link.receive("after");
    expect(second.socket.sent.at(-1)).toBe("n2");
    const moved = b.runtime.sessions!.get(id)!;
    // Its journal hears of it from the move on (what the holder saved, the engine saved).
    expect(engine.journals.get(moved)).toEqual(["confirmed: 2 of 3 kept", "attached", "sent 4 n2", "received 3"]);

    second.link.closed(CloseCode.NORMAL, "done");
    await settle();
    expect(second.handler.log).toEqual(["resume", "message after", "close 1000 done"]);
    expect(first.handler.log.filter((entry) => entry.startsWith("close"))).toEqual([]);
  });

  it("is not handed over while a hook of its handler runs; once it settled, it is", async () => {
    const engine = new SharedSessions();
    const [a, b] = [server(engine), server(engine)];
    const first = a.connect();
    first.link.receive("\0h0 ");
    const id = welcomeOf(first.socket)[2]!;
    first.link.receive("slow");
    const session = a.runtime.sessions!.get(id)!;
    expect(session.handOver()).toBeUndefined(); // busy: detached from its socket meanwhile
    expect(session.phase).toBe("detached");
    expect(first.socket.closes).toHaveLength(1);
    first.handler.release!();
    await settle();
    const second = b.connect();
    second.link.receive(`\0h0 ${id}`);
    await settle();
    expect(second.socket.sent[0]).toBe(`\0w1 1 ${id}`);
    expect(first.handler.log).toEqual(['open {"room":"r1"}', "message slow", "disconnect"]);
  });

  it("starts a new session when the engine finds none; a socket gone meanwhile leaves the moved one detached", async () => {
    vi.useFakeTimers();
    const engine = new SharedSessions();
    const [a, b] = [server(engine), server(engine)];
    const lost = b.connect();
    lost.link.receive("\0h3 unknown-id");
    await vi.advanceTimersByTimeAsync(0);
    expect(welcomeOf(lost.socket).slice(0, 2)).toEqual(["\0w0", "0"]);
    expect(String(lost.socket.sent[0])).toContain(NOT_FOUND_REASON);
    expect(lost.handler.log).toEqual(['open {"room":"r1"}']);

    const first = a.connect();
    first.link.receive("\0h0 ");
    const id = welcomeOf(first.socket)[2]!;
    const second = b.connect();
    second.link.receive(`\0h0 ${id}`);
    second.link.closed(CloseCode.ABNORMAL, ""); // before the engine answered
    await vi.advanceTimersByTimeAsync(0);
    const moved = b.runtime.sessions!.get(id)!;
    expect([moved.phase, second.socket.sent]).toEqual(["detached", []]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(second.handler.log).toEqual(["close 1006 session expired: not resumed within the window"]);
  });
});

describe("what cannot be handed over or saved", () => {
  it("a session its server is closing is not handed over; it ends once its socket closes", async () => {
    const engine = new SharedSessions();
    const { connect, runtime } = server(engine);
    const { handler, link } = connect();
    link.receive("\0h0 ");
    const session = [...engine.journals.keys()][0]!;
    handler.close(1000, "bye");
    expect(session.handOver()).toBeUndefined();
    link.closed(1000, "bye");
    await settle();
    expect(handler.log.at(-1)).toBe("close 1000 bye");
    expect(runtime.sessions!.size).toBe(0);
  });

  it("onClose still runs when the engine cannot confirm the end; a failed move gives a new session", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const engine = new SharedSessions();
    const [a, b] = [server(engine), server(engine)];
    const first = a.connect();
    first.link.receive("\0h0 ");
    const id = welcomeOf(first.socket)[2]!;
    engine.failing = true;
    const second = b.connect();
    second.link.receive(`\0h0 ${id}`);
    await settle();
    expect(welcomeOf(second.socket).slice(0, 2)).toEqual(["\0w0", "0"]);
    expect(String(error.mock.calls[0])).toContain("could not be moved here");
    first.link.closed(1000, "");
    await settle();
    expect(first.handler.log.at(-1)).toBe("close 1000 ");
    error.mockRestore();
  });

  it("a moved session whose counts do not match the client's closes that socket with 1013 (retried)", async () => {
    const engine = new SharedSessions();
    const [a, b] = [server(engine), server(engine)];
    const first = a.connect();
    first.link.receive("\0h0 ");
    const id = welcomeOf(first.socket)[2]!;
    const second = b.connect();
    second.link.receive(`\0h5 ${id}`); // the client claims messages the server never sent
    await settle();
    expect(second.socket.closes).toEqual([[CloseCode.TRY_AGAIN_LATER, "session counts do not match"]]);
    expect(b.runtime.sessions!.get(id)?.phase).toBe("detached");
  });

  it("a plain connection on a server with an engine saves nothing when its state changes", () => {
    const engine = new SharedSessions();
    const { runtime } = server(engine);
    const connection = new Connection(new Recorder(), LIMITS, undefined, runtime);
    connection.open(new Socket());
    connection.state = "x";
    expect([connection.state, engine.journals.size]).toEqual(["x", 0]);
  });

  it("a runtime's own persist is kept when it also has an engine", () => {
    const persist = vi.fn();
    const runtime = new Runtime({ upgrade: () => new Response(null), sessions: new SharedSessions(), persist });
    const connection = new Connection(new Recorder(), LIMITS, undefined, runtime);
    connection.open(new Socket());
    connection.state = 1;
    expect(persist).toHaveBeenCalledWith(connection);
  });
});

describe("Connection", () => {
  it("is idle when no hook runs and no message waits", async () => {
    const handler = new Recorder();
    const connection = new Connection(handler, LIMITS, undefined);
    connection.open(new Socket());
    expect(connection.idle).toBe(true);
    connection.receive("slow");
    connection.receive("queued");
    expect(connection.idle).toBe(false);
    handler.release!();
    await settle();
    expect(connection.idle).toBe(true);
  });

  it("closes without onClose once handed over; a second time changes nothing", () => {
    const runtime = new Runtime({ upgrade: () => new Response(null) });
    const handler = new Recorder();
    const connection = new Connection(handler, LIMITS, undefined, runtime);
    connection.open(new Socket());
    connection.handOver();
    connection.handOver();
    connection.closed(1000, "");
    expect([connection.readyState, runtime.connections.size, handler.log]).toEqual([ReadyState.CLOSED, 0, ["open {}"]]);
  });
});

describe("a server with an engine that shuts down", () => {
  const MOVE = [1012, "server restarting: resume elsewhere"];
  const started = (s: ReturnType<typeof server>) => {
    const first = s.connect();
    first.link.receive("\0h0 ");
    return { ...first, id: welcomeOf(first.socket)[2]! };
  };

  it("sends each session's client on with 1012, keeps the session for another server, and refuses a hello for it", async () => {
    const engine = new SharedSessions();
    const [leaving, staying] = [server(engine), server(engine)];
    const { link, socket, handler, id } = started(leaving);
    const done = leaving.runtime.shutdown(() => {}, { timeout: 5000 });
    expect(socket.closes).toEqual([MOVE]);
    link.closed(1012, "server restarting: resume elsewhere");
    expect(handler.log).toEqual(['open {"room":"r1"}', "disconnect"]);
    // A socket upgraded before the shutdown, whose hello comes after it: sent on too, the session left alone.
    const late = leaving.connect();
    late.link.receive(`\0h0 ${id}`);
    expect(late.socket.closes).toEqual([MOVE]);
    expect(late.socket.sent).toEqual([]);
    const back = staying.connect();
    back.link.receive(`\0h0 ${id}`);
    await settle();
    expect(welcomeOf(back.socket).slice(0, 3)).toEqual(["\0w0", "1", id]);
    await done; // the session moved: nothing is left to wait for
    expect(leaving.runtime.connections.size).toBe(0);
    expect(handler.log).toEqual(['open {"room":"r1"}', "disconnect"]);
  });

  it("waits for a session on its way to it when it began, sends its client on, and ends it with its close at the timeout", async () => {
    let arrive!: () => void;
    const gate = new Promise<void>((resolve) => arrive = resolve);
    const engine = new (class extends SharedSessions {
      override takeOver(id: string, route: string, adopt: (moved: MovedSession) => Session) {
        return gate.then(() => super.takeOver(id, route, adopt));
      }
    })();
    const [holder, leaving] = [server(engine), server(engine)];
    const first = started(holder);
    first.link.closed(CloseCode.ABNORMAL, "");
    const asking = leaving.connect();
    asking.link.receive(`\0h0 ${first.id}`);
    let finished = false;
    const done = leaving.runtime.shutdown(() => {}, { timeout: 200 }).then(() => finished = true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(finished).toBe(false); // not while a session is on its way
    arrive();
    await settle();
    expect(asking.socket.closes).toEqual([MOVE]);
    expect(asking.socket.sent).toEqual([]);
    await done;
    expect(asking.handler.log).toEqual(["close 1001 server shutting down"]);
    expect(first.handler.log).toEqual(['open {"room":"r1"}', "disconnect"]);
  });

  it("ends a session its engine can no longer hand over at once, with the shutdown's close, and waits for no timeout", async () => {
    const engine = new (class extends SharedSessions {
      movable = (session: Session) => session !== this.lost;
      lost: Session | undefined;
    })();
    const leaving = server(engine);
    const [kept, lost] = [started(leaving), started(leaving)];
    engine.lost = leaving.runtime.sessions!.get(lost.id);
    let finished = false;
    const done = leaving.runtime.shutdown(() => {}, { timeout: 60_000 }).then(() => finished = true);
    expect([kept.socket.closes, lost.socket.closes]).toEqual([[MOVE], [[1001, "server shutting down"]]]);
    lost.link.closed(1001, "server shutting down");
    await settle();
    expect(lost.handler.log).toEqual(['open {"room":"r1"}', "close 1001 server shutting down"]);
    kept.link.closed(1012, "server restarting: resume elsewhere");
    expect(finished).toBe(false); // the movable one is kept for its client
    leaving.runtime.sessions!.get(kept.id)!.handOver(); // as when its client resumes it on another server
    await done;
    expect(kept.handler.log).toEqual(['open {"room":"r1"}', "disconnect"]);
  });

  it("terminates at the timeout a released socket whose peer never answered the close", async () => {
    const socket = new (class extends Socket {
      terminated = 0;
      terminate(): void {
        this.terminated++;
      }
    })();
    const leaving = server(new SharedSessions());
    const first = leaving.connect(socket);
    first.link.receive("\0h0 ");
    await leaving.runtime.shutdown(() => {}, { timeout: 50 });
    expect(socket.closes).toEqual([MOVE]);
    expect(socket.terminated).toBe(1);
    expect(first.handler.log).toEqual(['open {"room":"r1"}', "disconnect", "close 1001 server shutting down"]);
  });
});
