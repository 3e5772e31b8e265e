import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Connection, type SocketEvents, type Transport } from "../../src/core/connection.ts";
import { CloseCode, ReadyState } from "../../src/core/constants.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import type { Message, SendData } from "../../src/core/message.ts";
import { resolveOptions, type ResumeOptions } from "../../src/core/options.ts";
import { resumableRoutes, websocket } from "../../src/core/route.ts";
import { RUNTIME, Runtime } from "../../src/core/runtime.ts";
import {
  FRAMING_ROOM,
  newSessionId,
  NOT_FOUND_REASON,
  REPLAY_FULL_REASON,
  SESSION_EXPIRED_REASON,
  SessionLink,
  SessionStore,
  TOO_MANY_CONNECTIONS_REASON,
} from "../../src/core/session.ts";
import { PLAIN_PROTOCOL, RESUME_LATER, RESUME_PROTOCOL } from "../../src/protocol/resume.ts";

/** One runtime socket of a session: records what the link sends and how it closes it. */
class FakeSocket implements Transport {
  sent: SendData[] = [];
  closes: [number | undefined, string | undefined][] = [];
  bufferedAmount = 0;
  /** When set, `send` and `close` throw it, as a runtime's closing socket may. */
  throws: Error | undefined;
  send(data: SendData): void {
    if (this.throws) throw this.throws;
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    if (this.throws) throw this.throws;
    this.closes.push([code, reason]);
  }
}

/** A socket whose runtime can ping and terminate (`ws`, Bun). */
class PingingSocket extends FakeSocket {
  pings = 0;
  terminated = 0;
  ping(): void {
    if (this.throws) throw this.throws;
    this.pings++;
  }
  terminate(): void {
    this.terminated++;
  }
}

/** Records every hook in `log`. */
class Recorder extends WebSocketHandler {
  log: string[] = [];
  override open(): void {
    this.log.push("open");
  }
  override onMessage(message: Message): void | Promise<void> {
    this.log.push(`message ${String(message)}`);
  }
  override onDisconnect(): void {
    this.log.push("disconnect");
  }
  override onResume(): void {
    this.log.push("resume");
  }
  override onClose(code: number, reason: string): void {
    this.log.push(`close ${code} ${reason}`.trimEnd());
  }
  override onError(error: unknown): void {
    this.log.push(`error ${(error as Error).message}`);
  }
}

const RESUME: ResumeOptions = { window: 10, maxMessages: 5, maxBytes: 100 };

/** A server of its own per test. */
let runtime: Runtime;
beforeEach(() => {
  vi.useFakeTimers();
  runtime = new Runtime({ upgrade: () => new Response() });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A new socket on `route`, opened (before its hello): its link, its handler (used if it starts a session). */
function socket<S extends FakeSocket = FakeSocket>(
  { route = "/r", resume = RESUME, idleTimeout = 0, maxConnections, transport }: {
    route?: string;
    resume?: ResumeOptions;
    idleTimeout?: number;
    maxConnections?: number;
    transport?: S;
  } = {},
) {
  const handler = new Recorder();
  const limits = resolveOptions({ resume, idleTimeout, maxConnections });
  const connection = new Connection(handler, limits, undefined, runtime);
  const link = new SessionLink(connection, route);
  const fake = transport ?? new FakeSocket() as S;
  link.open(fake);
  return { link, handler, connection, transport: fake };
}

/** Reads the welcome the link sent first. */
function welcomeOf(transport: FakeSocket): { received: number; resumed: boolean; id: string; reason: string } {
  const match = /^\0w(\d+) ([01]) (\S+) ?(.*)$/s.exec(String(transport.sent[0]));
  if (!match) throw new Error(`no welcome in ${JSON.stringify(transport.sent)}`);
  return { received: Number(match[1]), resumed: match[2] === "1", id: match[3]!, reason: match[4]! };
}

/** A socket that started a new session: its parts and the session. */
function started<S extends FakeSocket = FakeSocket>(options: Parameters<typeof socket<S>>[0] = {}) {
  const parts = socket<S>(options);
  parts.link.receive("\0h0 ");
  const id = welcomeOf(parts.transport).id;
  const session = runtime.sessions!.get(id)!;
  return { ...parts, id, session };
}

describe("SessionLink: the hello", () => {
  it("a hello without a session starts one: welcome with a new id, then the handler's open, once", () => {
    const { link, transport, handler, connection, session, id } = started();
    expect(transport.sent).toEqual([`\0w0 0 ${id} `]);
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(handler.log).toEqual(["open"]);
    expect(link.protocol).toBe(RESUME_PROTOCOL);
    expect(connection.readyState).toBe(ReadyState.OPEN);
    expect(connection.transport).toBe(session);
    expect(session).toMatchObject({ phase: "attached", pending: 0, route: "/r", replays: true });
    expect(runtime.sessions!.size).toBe(1);
    expect(runtime.connections.size).toBe(1);
  });

  it.each([
    ["a data message", "hello?", "expected hello"],
    ["an acknowledgement", "\0a0", "unexpected control frame"],
    ["a welcome", "\0w0 0 x", "unexpected control frame"],
    ["a hello with a count that is not a number", "\0hx", "unexpected control frame"],
    ["a hello with a negative count", "\0h-1", "unexpected control frame"],
  ])("%s before the hello closes the socket with 1002", (_, frame, reason) => {
    const { link, transport, handler } = socket();
    link.receive(frame);
    expect(transport.closes).toEqual([[CloseCode.PROTOCOL_ERROR, reason]]);
    expect(handler.log).toEqual([]);
    expect(runtime.sessions!.size).toBe(0);
  });

  it("a second hello on the same socket closes it with 1002", () => {
    const { link, transport } = started();
    link.receive("\0h0 ");
    expect(transport.closes).toEqual([[CloseCode.PROTOCOL_ERROR, "unexpected control frame"]]);
    expect(runtime.sessions!.size).toBe(1);
  });

  it("a socket that sends no hello within 10 s is closed with 1008; its close starts nothing", () => {
    const { link, transport, handler } = socket();
    vi.advanceTimersByTime(9_999);
    expect(transport.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(transport.closes).toEqual([[CloseCode.POLICY_VIOLATION, "no hello"]]);
    link.closed(CloseCode.POLICY_VIOLATION, "no hello");
    expect(handler.log).toEqual([]);
    expect(runtime.connections.size).toBe(0);
  });

  it("a hello in time stops the hello timer", () => {
    const { transport } = started();
    vi.advanceTimersByTime(20_000);
    expect(transport.closes).toEqual([]);
  });

  it("an unknown session id: a new session, welcomed with resumed 0 and NOT_FOUND_REASON", () => {
    const { link, transport, handler } = socket();
    link.receive(`\0h7 ${newSessionId()}`);
    const welcome = welcomeOf(transport);
    expect(welcome).toMatchObject({ received: 0, resumed: false, reason: NOT_FOUND_REASON });
    expect(runtime.sessions!.get(welcome.id)).toBeDefined();
    expect(handler.log).toEqual(["open"]);
  });

  it("at maxConnections a hello that resumes is served, one that would start a session is closed with 1013", () => {
    const limited = { resume: RESUME, maxConnections: 1 };
    const first = started(limited);
    first.link.closed(CloseCode.ABNORMAL, "");
    const fresh = socket(limited);
    fresh.link.receive(`\0h0 ${newSessionId()}`);
    expect(fresh.transport.sent).toEqual([]);
    expect(fresh.transport.closes).toEqual([[CloseCode.TRY_AGAIN_LATER, TOO_MANY_CONNECTIONS_REASON]]);
    fresh.link.closed(CloseCode.TRY_AGAIN_LATER, TOO_MANY_CONNECTIONS_REASON);
    expect(fresh.handler.log).toEqual([]);
    const back = socket(limited);
    back.link.receive(`\0h0 ${first.id}`);
    expect(welcomeOf(back.transport)).toMatchObject({ resumed: true, id: first.id });
    expect(runtime.connections.size).toBe(1);
  });

  it("the id of a session of another route is refused as unknown, and that session is left alone", () => {
    const other = started({ route: "/other" });
    const { link, transport } = socket({ route: "/r" });
    link.receive(`\0h0 ${other.id}`);
    const welcome = welcomeOf(transport);
    expect(welcome).toMatchObject({ resumed: false, reason: NOT_FOUND_REASON });
    expect(welcome.id).not.toBe(other.id);
    expect(other.session.phase).toBe("attached");
    expect(other.transport.closes).toEqual([]);
    expect(runtime.sessions!.size).toBe(2);
  });
});

describe("Session: messages and acknowledgements", () => {
  it("data messages reach onMessage unescaped, counted; acknowledged 100 ms after the first one", () => {
    const { link, transport, handler } = started();
    link.receive("one");
    link.receive("\0\0two");
    const binary = new Uint8Array([1, 2]).buffer;
    link.receive(binary);
    expect(handler.log).toEqual(["open", "message one", "message \0two", "message [object ArrayBuffer]"]);
    vi.advanceTimersByTime(99);
    expect(transport.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(transport.sent.slice(1)).toEqual(["\0a3"]);
    link.receive("four");
    vi.advanceTimersByTime(100);
    expect(transport.sent.slice(1)).toEqual(["\0a3", "\0a4"]);
    // Nothing new: no acknowledgement.
    vi.advanceTimersByTime(1000);
    expect(transport.sent).toHaveLength(3);
  });

  it("every 64th message is acknowledged at once", () => {
    const { link, transport } = started({ resume: { ...RESUME, maxMessages: 1000 } });
    for (let i = 1; i <= 63; i++) link.receive(`m${i}`);
    expect(transport.sent).toHaveLength(1);
    link.receive("m64");
    expect(transport.sent.slice(1)).toEqual(["\0a64"]);
    vi.advanceTimersByTime(200);
    expect(transport.sent).toHaveLength(2);
  });

  it("what the handler sends goes out escaped and waits for the client's acknowledgement", () => {
    const { link, transport, handler, session } = started();
    handler.send("a");
    handler.send("\0b");
    handler.send(new Uint8Array([7]));
    expect(transport.sent.slice(1)).toEqual(["a", "\0\0b", new Uint8Array([7])]);
    expect(session.pending).toBe(3);
    link.receive("\0a2");
    expect(session.pending).toBe(1);
    link.receive("\0a2"); // the same count again: nothing more to drop
    expect(session.pending).toBe(1);
    link.receive("\0a3");
    expect(session.pending).toBe(0);
    expect(transport.closes).toEqual([]);
  });

  it.each([
    ["more than were sent", "\0a3"],
    ["fewer than it confirmed before", "\0a0"],
  ])("an acknowledgement of %s closes the socket with 1002", (_, ack) => {
    const { link, transport, handler } = started();
    handler.send("a");
    handler.send("b");
    link.receive("\0a1");
    link.receive(ack);
    expect(transport.closes).toEqual([[CloseCode.PROTOCOL_ERROR, "unexpected control frame"]]);
  });

  it("bufferedAmount is the current socket's, the replay buffer's bytes while detached; the socket's drain reaches the handler", async () => {
    const { link, transport, handler, session } = started();
    transport.bufferedAmount = 70_000;
    expect(handler.bufferedAmount).toBe(70_000);
    expect(handler.send("x")).toBe(false);
    let drained = false;
    void handler.drained().then(() => (drained = true));
    transport.bufferedAmount = 0;
    link.writable();
    await Promise.resolve();
    expect(drained).toBe(true);
    link.closed(CloseCode.ABNORMAL, "");
    // The "x" above is still unconfirmed: 1 byte waits for the client; more while it is away.
    expect(session.bufferedAmount).toBe(1);
    handler.send("away");
    expect(session.bufferedAmount).toBe(5);
  });

  it("once the session ended, what the handler's connection hands it is dropped", () => {
    const { link, session, transport } = started();
    link.closed(CloseCode.NORMAL, "");
    session.send("late");
    expect(session.pending).toBe(0);
    expect(transport.sent).toHaveLength(1);
  });

  it("a link has no socket before its socket opened", () => {
    const connection = new Connection(new Recorder(), resolveOptions({ resume: RESUME }), undefined, runtime);
    expect(new SessionLink(connection, "/r").transport).toBeUndefined();
  });

  it("a socket that throws on send or close is left to its close event", () => {
    const { link, transport, handler } = started();
    transport.throws = new Error("closing");
    expect(() => handler.send("lost on this socket")).not.toThrow();
    expect(() => link.closeSocket(1000)).not.toThrow();
    expect(handler.log).toEqual(["open"]);
  });
});

describe("Session: drops and resumes", () => {
  it("a drop (1006) detaches: onDisconnect; what is sent meanwhile waits; a hello with the id resumes it", () => {
    const first = started();
    first.handler.send("s1");
    first.link.receive("c1");
    first.link.closed(CloseCode.ABNORMAL, "");
    expect(first.session.phase).toBe("detached");
    expect(first.handler.log).toEqual(["open", "message c1", "disconnect"]);
    first.handler.send("s2");
    first.handler.send("\0s3");
    expect(first.transport.sent).toEqual([`\0w0 0 ${first.id} `, "s1"]);
    expect(first.session.pending).toBe(3);
    // The pending acknowledgement of c1 was for the dropped socket: the welcome carries the count instead.
    vi.advanceTimersByTime(100);
    expect(first.transport.sent).toHaveLength(2);

    const second = socket();
    second.link.receive(`\0h1 ${first.id}`);
    // Welcome: the server received 1 of the client's messages; then what the client missed, in order, escaped.
    expect(second.transport.sent).toEqual([`\0w1 1 ${first.id}`, "s2", "\0\0s3"]);
    expect(first.session.phase).toBe("attached");
    expect(first.session.pending).toBe(2);
    expect(first.handler.log).toEqual(["open", "message c1", "disconnect", "resume"]);
    // The new socket's handler was never used: one session, one handler.
    expect(second.handler.log).toEqual([]);
    expect(runtime.sessions!.size).toBe(1);
    expect(runtime.connections.size).toBe(1);

    second.link.receive("c2");
    first.handler.send("s4");
    expect(second.transport.sent.at(-1)).toBe("s4");
    expect(first.handler.log.at(-1)).toBe("message c2");
    second.link.receive("\0a4");
    expect(first.session.pending).toBe(0);
  });

  it("a client moving on with RESUME_LATER (4900) detaches the session too", () => {
    const { link, session, handler } = started();
    link.closed(RESUME_LATER, "");
    expect(session.phase).toBe("detached");
    expect(handler.log).toEqual(["open", "disconnect"]);
  });

  it('Deno\'s close of a peer that answered no pings (1001 "No response from ping frame.") detaches it too', () => {
    const { link, session, handler } = started();
    link.closed(CloseCode.GOING_AWAY, "No response from ping frame.");
    expect(session.phase).toBe("detached");
    expect(handler.log).toEqual(["open", "disconnect"]);
  });

  it.each([[CloseCode.NORMAL, "bye"], [CloseCode.GOING_AWAY, ""], [4000, "app"]])(
    "a close with %i ends the session: onClose once, the id forgotten",
    (code, reason) => {
      const { link, session, handler, id } = started();
      link.closed(code, reason);
      expect(session.phase).toBe("ended");
      expect(handler.log).toEqual(["open", `close ${code} ${reason}`.trimEnd()]);
      expect(runtime.sessions!.get(id)).toBeUndefined();
      expect(runtime.connections.size).toBe(0);
    },
  );

  it("the window passes: onClose(1006, SESSION_EXPIRED_REASON) once; a hello for it then gets a new session", () => {
    const { link, session, handler, id } = started();
    link.closed(CloseCode.ABNORMAL, "");
    vi.advanceTimersByTime(9_999);
    expect(session.phase).toBe("detached");
    vi.advanceTimersByTime(1);
    expect(session.phase).toBe("ended");
    expect(handler.log).toEqual(["open", "disconnect", `close 1006 ${SESSION_EXPIRED_REASON}`]);
    expect(runtime.sessions!.size).toBe(0);

    const next = socket();
    next.link.receive(`\0h0 ${id}`);
    expect(welcomeOf(next.transport)).toMatchObject({ resumed: false, reason: NOT_FOUND_REASON });
    expect(next.handler.log).toEqual(["open"]);
    vi.advanceTimersByTime(60_000);
    expect(handler.log).toHaveLength(3);
  });

  it("a resume stops the window", () => {
    const { link, handler, id } = started();
    link.closed(CloseCode.ABNORMAL, "");
    vi.advanceTimersByTime(5_000);
    socket().link.receive(`\0h0 ${id}`);
    vi.advanceTimersByTime(60_000);
    expect(handler.log).toEqual(["open", "disconnect", "resume"]);
  });

  it("a hello whose count does not match the session's (more than was sent) gets a new session", () => {
    const { link, id, handler } = started();
    handler.send("s1");
    link.closed(CloseCode.ABNORMAL, "");
    const next = socket();
    next.link.receive(`\0h2 ${id}`);
    const welcome = welcomeOf(next.transport);
    expect(welcome).toMatchObject({ resumed: false, reason: "session counts do not match" });
    expect(welcome.id).not.toBe(id);
    expect(next.handler.log).toEqual(["open"]);
  });

  it("a hello for a session whose socket the server has not yet seen drop moves it: the old socket is closed, its events ignored", () => {
    const first = started();
    first.handler.send("s1");
    first.link.receive("c1");
    const second = socket();
    second.link.receive(`\0h0 ${first.id}`);
    expect(second.transport.sent).toEqual([`\0w1 1 ${first.id}`, "s1"]);
    expect(first.transport.closes).toEqual([[CloseCode.POLICY_VIOLATION, "session resumed on another connection"]]);
    // Still attached: no disconnect, no resume.
    expect(first.session.phase).toBe("attached");
    first.link.receive("late");
    first.link.writable();
    first.link.closed(CloseCode.POLICY_VIOLATION, "session resumed on another connection");
    expect(first.session.phase).toBe("attached");
    expect(first.handler.log).toEqual(["open", "message c1"]);
    first.handler.send("s2");
    expect(second.transport.sent.at(-1)).toBe("s2");
  });

  it("a drop of a socket that is no longer the session's does not detach it", () => {
    const first = started();
    first.link.closed(CloseCode.ABNORMAL, "");
    const second = socket();
    second.link.receive(`\0h0 ${first.id}`);
    first.link.closed(CloseCode.ABNORMAL, "");
    expect(first.session.phase).toBe("attached");
  });
});

describe("Session: released by a server that shuts down", () => {
  it("release() closes the socket with the given close and detaches the session; its socket's close then changes nothing; a hello resumes it", () => {
    const { link, transport, handler, session, id } = started();
    expect(session.release(1012, "server restarting: resume elsewhere")).toBe(true);
    expect(transport.closes).toEqual([[1012, "server restarting: resume elsewhere"]]);
    expect(session.phase).toBe("detached");
    expect(handler.log).toEqual(["open", "disconnect"]);
    link.closed(1012, "server restarting: resume elsewhere");
    expect(session.phase).toBe("detached");
    handler.send("while away");
    const next = socket();
    next.link.receive(`\0h0 ${id}`);
    expect(next.transport.sent).toEqual([`\0w0 1 ${id}`, "while away"]);
    expect(handler.log).toEqual(["open", "disconnect", "resume"]);
  });

  it("a detached session is released as it is; one that the server is closing, or that ended, is not", () => {
    const detached = started();
    detached.link.closed(CloseCode.ABNORMAL, "");
    expect(detached.session.release(1012, "")).toBe(true);
    expect(detached.handler.log).toEqual(["open", "disconnect"]);
    const closing = started();
    closing.handler.close(1000, "bye");
    expect(closing.session.release(1012, "")).toBe(false);
    closing.link.closed(1000, "bye");
    expect(closing.session.phase).toBe("ended");
    expect(closing.session.release(1012, "")).toBe(false);
  });
});

describe("Session: closed by the server", () => {
  it("close() while attached closes the socket; its close ends the session, whatever its code", () => {
    const { link, transport, handler, session } = started();
    handler.close(4001, "done");
    expect(transport.closes).toEqual([[4001, "done"]]);
    // Meanwhile a hello for it gets a new session.
    const next = socket();
    next.link.receive(`\0h0 ${session.id}`);
    expect(welcomeOf(next.transport)).toMatchObject({ resumed: false, reason: NOT_FOUND_REASON });
    link.closed(CloseCode.ABNORMAL, "");
    expect(session.phase).toBe("ended");
    expect(handler.log).toEqual(["open", "close 1006"]);
  });

  it("close() while detached ends the session at once", () => {
    const { link, handler, session } = started();
    link.closed(CloseCode.ABNORMAL, "");
    handler.close(4001, "done");
    expect(session.phase).toBe("ended");
    expect(handler.log).toEqual(["open", "disconnect", "close 4001 done"]);
    session.close(); // no effect once ended
    expect(handler.log).toHaveLength(3);
  });

  it("close() of the session without a code while detached ends it with 1000", () => {
    const { link, handler, session } = started();
    link.closed(CloseCode.ABNORMAL, "");
    session.close();
    expect(handler.log.at(-1)).toBe("close 1000");
  });

  it("terminate() while attached drops the socket; its close ends the session", () => {
    const { link, transport, handler, session } = started({ transport: new PingingSocket() });
    session.terminate();
    expect(transport.terminated).toBe(1);
    link.closed(CloseCode.ABNORMAL, "");
    expect(session.phase).toBe("ended");
    expect(handler.log).toEqual(["open", "close 1006"]);
  });

  it("terminate() of a socket whose runtime cannot terminate closes it with RESUME_LATER", () => {
    const { transport, session } = started();
    session.terminate();
    expect(transport.closes).toEqual([[RESUME_LATER, ""]]);
  });

  it("terminate() while detached ends the session at once with 1006", () => {
    const { link, handler, session } = started();
    link.closed(CloseCode.ABNORMAL, "");
    session.terminate();
    expect(handler.log).toEqual(["open", "disconnect", "close 1006"]);
  });

  it("a handler hook that throws while detached ends the session with 1011", () => {
    class Failing extends Recorder {
      override onDisconnect(): void {
        throw new Error("boom");
      }
    }
    const connection = new Connection(new Failing(), resolveOptions({ resume: RESUME }), undefined, runtime);
    const link = new SessionLink(connection, "/r");
    link.open(new FakeSocket());
    link.receive("\0h0");
    link.closed(CloseCode.ABNORMAL, "");
    expect((connection.handler as Failing).log).toEqual(["open", "error boom", "close 1011 internal error"]);
    expect(runtime.sessions!.size).toBe(0);
  });

  it("onDisconnect and onResume wait for a running onMessage, in order with the messages", async () => {
    let finish!: () => void;
    class Slow extends Recorder {
      override onMessage(message: Message): Promise<void> | void {
        super.onMessage(message);
        if (message === "slow") return new Promise((resolve) => (finish = resolve));
      }
    }
    const handler = new Slow();
    const connection = new Connection(handler, resolveOptions({ resume: RESUME }), undefined, runtime);
    const first = new SessionLink(connection, "/r");
    const transport = new FakeSocket();
    first.open(transport);
    first.receive("\0h0");
    first.receive("slow");
    first.receive("queued");
    first.closed(CloseCode.ABNORMAL, "");
    socket().link.receive(`\0h0 ${welcomeOf(transport).id}`);
    expect(handler.log).toEqual(["open", "message slow"]);
    finish();
    await Promise.resolve();
    await Promise.resolve();
    expect(handler.log).toEqual(["open", "message slow", "message queued", "disconnect", "resume"]);
  });
});

describe("Session: the replay buffer's cap", () => {
  it("one message more than maxMessages while attached: not sent; the session closes with 1013", () => {
    const { transport, handler, session, link } = started();
    for (let i = 1; i <= 5; i++) handler.send(`s${i}`);
    expect(session.pending).toBe(5);
    handler.send("s6");
    expect(transport.sent.slice(1)).toEqual(["s1", "s2", "s3", "s4", "s5"]);
    expect(transport.closes).toEqual([[CloseCode.TRY_AGAIN_LATER, REPLAY_FULL_REASON]]);
    expect(session.pending).toBe(0);
    expect(() => handler.send("s7")).toThrow();
    link.closed(CloseCode.TRY_AGAIN_LATER, REPLAY_FULL_REASON);
    expect(handler.log).toEqual(["open", `close 1013 ${REPLAY_FULL_REASON}`]);
  });

  it("acknowledged messages make room", () => {
    const { transport, handler, link } = started();
    for (let i = 1; i <= 5; i++) handler.send(`s${i}`);
    link.receive("\0a5");
    for (let i = 6; i <= 10; i++) handler.send(`s${i}`);
    expect(transport.closes).toEqual([]);
  });

  it("more than maxBytes (text counted in UTF-16 code units, binary in bytes) closes it too", () => {
    const { transport, handler } = started();
    handler.send("x".repeat(60));
    handler.send(new Uint8Array(40));
    expect(transport.closes).toEqual([]);
    handler.send("y");
    expect(transport.closes).toEqual([[CloseCode.TRY_AGAIN_LATER, REPLAY_FULL_REASON]]);
  });

  it("maxBytes counts only what is kept: after partial confirmations, a compaction, and an emptied buffer", () => {
    // 10 B messages, a cap of 1,000 B: 100 kept fit, 101 do not, however many were sent and confirmed before.
    const { link, handler, transport } = started({ resume: { ...RESUME, maxMessages: 5000, maxBytes: 1000 } });
    const send = (n: number) => handler.send(`m${String(n).padStart(9, "0")}`);
    for (let i = 1; i <= 100; i++) send(i);
    link.receive("\0a37"); // a partial confirmation: 63 kept
    for (let i = 101; i <= 137; i++) send(i); // 100 kept
    link.receive("\0a90"); // 47 kept
    for (let i = 138; i <= 190; i++) send(i); // 100 kept
    link.receive("\0a180"); // 10 kept
    for (let i = 191; i <= 280; i++) send(i); // 100 kept
    link.receive("\0a270"); // 10 kept, 270 dropped from the front: compacted
    for (let i = 281; i <= 370; i++) send(i); // 100 kept
    link.receive("\0a275"); // 95 kept, the first 5 of them moved by the compaction
    for (let i = 371; i <= 375; i++) send(i); // 100 kept
    link.receive("\0a375"); // all confirmed: the buffer is empty
    for (let i = 376; i <= 475; i++) send(i); // 100 kept
    expect(transport.closes).toEqual([]);
    send(476);
    expect(transport.closes).toEqual([[CloseCode.TRY_AGAIN_LATER, REPLAY_FULL_REASON]]);
  });

  it("past the cap while detached, the session ends at once with 1013 REPLAY_FULL_REASON", () => {
    const { link, handler, session, id } = started();
    link.closed(CloseCode.ABNORMAL, "");
    for (let i = 1; i <= 6; i++) handler.send(`s${i}`);
    expect(session.phase).toBe("ended");
    expect(handler.log).toEqual(["open", "disconnect", `close 1013 ${REPLAY_FULL_REASON}`]);
    const next = socket();
    next.link.receive(`\0h0 ${id}`);
    expect(welcomeOf(next.transport)).toMatchObject({ resumed: false, reason: NOT_FOUND_REASON });
    expect(next.transport.sent).toHaveLength(1); // nothing of the old session replayed
  });

  it("a long stream confirmed in parts replays exactly what is unconfirmed, in order", () => {
    const { link, handler, session, id } = started({ resume: { ...RESUME, maxMessages: 5000, maxBytes: 1e6 } });
    for (let i = 1; i <= 3000; i++) handler.send(`s${i}`);
    link.receive("\0a1500");
    link.receive("\0a2990");
    expect(session.pending).toBe(10);
    link.closed(CloseCode.ABNORMAL, "");
    for (let i = 3001; i <= 3005; i++) handler.send(`s${i}`);
    const next = socket();
    next.link.receive(`\0h2995 ${id}`);
    expect(next.transport.sent.slice(1)).toEqual(["s2996", "s2997", "s2998", "s2999", "s3000", ...[
      "s3001",
      "s3002",
      "s3003",
      "s3004",
      "s3005",
    ]]);
    next.link.receive("\0a3005");
    expect(session.pending).toBe(0);
  });

  it("messages kept after a partial confirmation and more sends replay in order, with their bytes counted", () => {
    const { link, handler, session, id } = started({ resume: { ...RESUME, maxMessages: 5000, maxBytes: 1e6 } });
    for (let i = 1; i <= 60; i++) handler.send(`s${i}`);
    link.receive("\0a50");
    // 10 kept from the middle of the buffer, then more behind them.
    for (let i = 61; i <= 200; i++) handler.send(`s${i}`);
    link.closed(CloseCode.ABNORMAL, "");
    const kept = Array.from({ length: 150 }, (_, k) => `s${k + 51}`);
    expect(session.bufferedAmount).toBe(kept.join("").length);
    const next = socket();
    next.link.receive(`\0h50 ${id}`);
    expect(next.transport.sent.slice(1)).toEqual(kept);
  });
  it("a replay buffer compacted after a long confirmed front keeps the rest, in order, with their bytes", () => {
    const { link, handler, session, id } = started({ resume: { ...RESUME, maxMessages: 5000, maxBytes: 1e6 } });
    for (let i = 1; i <= 300; i++) handler.send(`s${i}`);
    link.receive("\0a64");
    link.receive("\0a290"); // 290 dropped from the front, 10 kept: compacted
    for (let i = 301; i <= 310; i++) handler.send(`s${i}`);
    link.closed(CloseCode.ABNORMAL, "");
    const kept = Array.from({ length: 20 }, (_, k) => `s${k + 291}`);
    expect(session.pending).toBe(20);
    expect(session.bufferedAmount).toBe(kept.join("").length);
    const next = socket();
    next.link.receive(`\0h290 ${id}`);
    expect(next.transport.sent.slice(1)).toEqual(kept);
  });

  it("a replay buffer emptied and refilled by bursts of every size keeps exactly what is unconfirmed, in order", () => {
    // Against a model (an array): bursts of up to 600 and acknowledgements that empty the buffer or leave part of it,
    // so that it is emptied, dropped from the front, and compacted.
    const { link, handler, session } = started({ resume: { ...RESUME, maxMessages: 5000, maxBytes: 1e6 } });
    let random = 7;
    const next = (n: number) => (random = (random * 48271) % 2147483647) % n;
    const model: string[] = [];
    let sent = 0;
    for (let step = 0; step < 400; step++) {
      for (let burst = next(step % 50 === 0 ? 600 : 40); burst > 0; burst--) {
        handler.send(`s${++sent}`);
        model.push(`s${sent}`);
      }
      const confirm = next(3) === 0 ? model.length : next(model.length + 1);
      link.receive(`\0a${sent - model.length + confirm}`);
      model.splice(0, confirm);
      expect([...session.unconfirmed()]).toEqual(model);
      expect(session.pending).toBe(model.length);
    }
    link.closed(CloseCode.ABNORMAL, "");
    expect(session.bufferedAmount).toBe(model.join("").length);
  });
});

describe("Session: the replay buffer's room", () => {
  const LARGE = { ...RESUME, maxMessages: 5000, maxBytes: 1e6 };

  it("emptied by an acknowledgement, it keeps its room while messages keep coming, and frees it when the late timer finds it still empty", () => {
    const { link, handler, session } = started({ resume: LARGE });
    for (let i = 1; i <= 100; i++) handler.send(`s${i}`);
    const room = session.replayRoom;
    expect(room).toBeGreaterThanOrEqual(100);
    link.receive("\0a100");
    expect(session.pending).toBe(0);
    expect(session.replayRoom).toBe(room);
    vi.advanceTimersByTime(50);
    for (let i = 101; i <= 150; i++) handler.send(`s${i}`);
    vi.advanceTimersByTime(60); // the timer fires with messages kept: the room stays
    expect(session.replayRoom).toBe(room);
    link.receive("\0a150");
    vi.advanceTimersByTime(99);
    expect(session.replayRoom).toBe(room);
    vi.advanceTimersByTime(1);
    expect(session.replayRoom).toBe(0);
    handler.send("s151");
    expect([...session.unconfirmed()]).toEqual(["s151"]);
  });

  it("a session that detaches with nothing kept frees its room at once; one that ends frees it with its messages", () => {
    const { link, handler, session } = started({ resume: LARGE });
    for (let i = 1; i <= 10; i++) handler.send(`s${i}`);
    link.receive("\0a10");
    expect(session.replayRoom).toBeGreaterThan(0);
    link.closed(CloseCode.ABNORMAL, "");
    expect(session.replayRoom).toBe(0);

    const other = started({ resume: LARGE });
    for (let i = 1; i <= 10; i++) other.handler.send(`s${i}`);
    other.link.closed(CloseCode.NORMAL, "");
    expect(other.session.phase).toBe("ended");
    expect(other.session.replayRoom).toBe(0);
    expect(other.session.pending).toBe(0);
  });
});

describe("SessionLink: the heartbeat", () => {
  it("watches a socket whose runtime pings; a pong or a message counts as heard; its close stops watching", () => {
    const { link, transport } = started({ idleTimeout: 10, transport: new PingingSocket() });
    expect(runtime.heartbeat.timers).toBe(1);
    expect(link.heard).toBe(1); // the hello
    link.pong();
    link.receive("m");
    expect(link.heard).toBe(3);
    vi.advanceTimersByTime(5_000);
    expect(transport.pings).toBe(1);
    link.closed(CloseCode.ABNORMAL, "");
    expect(runtime.heartbeat.timers).toBe(0);
  });

  it("terminates a socket that was not heard from: the session is detached, not ended", () => {
    const { transport, session, handler, link } = started({ idleTimeout: 10, transport: new PingingSocket() });
    vi.advanceTimersByTime(10_000);
    expect(transport.terminated).toBe(1);
    link.closed(CloseCode.ABNORMAL, "");
    expect(session.phase).toBe("detached");
    expect(handler.log).toEqual(["open", "disconnect"]);
  });

  it("a ping on a closing socket is ignored", () => {
    const { link, transport } = started({ transport: new PingingSocket() });
    transport.throws = new Error("closing");
    expect(() => link.ping()).not.toThrow();
  });

  it("without idleTimeout nothing is watched", () => {
    started({ idleTimeout: 0, transport: new PingingSocket() });
    expect(runtime.heartbeat.timers).toBe(0);
  });
});

describe("sessions and topics", () => {
  it("a publication while detached waits in the replay buffer and arrives on resume, once", () => {
    const { link, handler, session, id } = started();
    handler.subscribe("news");
    link.closed(CloseCode.ABNORMAL, "");
    runtime.pubsub!.publish("news", "while away");
    expect(session.pending).toBe(1);
    const next = socket();
    next.link.receive(`\0h0 ${id}`);
    expect(next.transport.sent).toEqual([`\0w0 1 ${id}`, "while away"]);
    runtime.pubsub!.publish("news", "back");
    expect(next.transport.sent.at(-1)).toBe("back");
    // Ended: it leaves its topics.
    next.link.closed(CloseCode.NORMAL, "");
    expect(runtime.pubsub!.subscribers("news")).toBe(0);
  });

  it("with a runtime's own topic engine (Bun's), sessions subscribe in the core's, which the engine never sees", () => {
    const engine = { subscribed: [] as string[], published: [] as string[] };
    runtime = new Runtime({
      upgrade: () => new Response(),
      topics: {
        subscribe: (_connection, topic) => void engine.subscribed.push(topic),
        unsubscribe: () => {},
        publish: (topic) => void engine.published.push(topic),
        subscribers: () => 1,
      },
    });
    const { link, handler, session } = started();
    handler.subscribe("room");
    expect(engine.subscribed).toEqual([]);
    expect(runtime.pubsub!.subscribers("room")).toBe(2); // the engine's one, and the session
    link.closed(CloseCode.ABNORMAL, "");
    runtime.pubsub!.publish("room", "hi");
    expect(engine.published).toEqual(["room"]);
    expect(session.pending).toBe(1);
    handler.unsubscribe("room");
    expect(runtime.pubsub!.subscribers("room")).toBe(1);
  });
});

describe("Connection.notify", () => {
  it("runs no hook on a connection that is not open", () => {
    const handler = new Recorder();
    const connection = new Connection(handler, resolveOptions({ resume: RESUME }), undefined, runtime);
    connection.notify("onResume");
    connection.open(new FakeSocket());
    connection.closed(CloseCode.NORMAL, "");
    connection.notify("onDisconnect");
    expect(handler.log).toEqual(["open", "close 1000"]);
  });

  it("the default onDisconnect and onResume do nothing", () => {
    const handler = new WebSocketHandler();
    expect(handler.onDisconnect()).toBeUndefined();
    expect(handler.onResume()).toBeUndefined();
  });
});

describe("SessionStore", () => {
  it("forgets a session only once, and only that session", () => {
    const store = new SessionStore();
    const connection = new Connection(new Recorder(), resolveOptions({ resume: RESUME }), undefined, runtime);
    const link = new SessionLink(connection, "/r");
    const session = store.create(connection, "/r", resolveOptions({ resume: RESUME }).resume!, link);
    expect(store.get(session.id)).toBe(session);
    store.delete(session);
    store.delete(session);
    expect(store.size).toBe(0);
  });

  it("newSessionId: 144 random bits, base64url (24 characters), never the same", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newSessionId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});

describe("websocket() with resume", () => {
  const upgradeHeaders = (protocols?: string) => ({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    ...(protocols ? { "sec-websocket-protocol": protocols } : {}),
  });

  /** What the route hands the runtime for an upgrade offering `protocols`. */
  async function upgraded(app: Hono, path: string, protocols: string | undefined, server = runtime) {
    let handed: SocketEvents | undefined;
    const env = {
      [RUNTIME]: new Runtime({
        upgrade: (_c, socket) => ((handed = socket), new Response("up")),
        sessions: server.sessions !== undefined,
      }),
    };
    await app.fetch(new Request(`http://localhost${path}`, { headers: upgradeHeaders(protocols) }), env);
    return handed!;
  }

  it("an EdgeSocket's offer on a resume route gets a SessionLink (the resume protocol)", async () => {
    const app = new Hono();
    app.get("/r", websocket(Recorder, { resume: true }));
    const handed = await upgraded(app, "/r", `chat, ${RESUME_PROTOCOL}, ${PLAIN_PROTOCOL}`);
    expect(handed).toBeInstanceOf(SessionLink);
    expect(handed.protocol).toBe(RESUME_PROTOCOL);
  });

  it("the sockets of a resume route share one limits object, with room for the protocol's framing", async () => {
    const app = new Hono();
    app.get("/r", websocket(Recorder, { resume: true, maxMessageSize: 1000 }));
    const offer = `${RESUME_PROTOCOL}, ${PLAIN_PROTOCOL}`;
    const [first, second] = [await upgraded(app, "/r", offer), await upgraded(app, "/r", offer)];
    expect(first).not.toBe(second);
    expect(first.limits).toBe(second.limits);
    expect(first.limits.maxMessageSize).toBe(1000 + FRAMING_ROOM);
  });

  it("a plain WebSocket on a resume route gets an ordinary Connection", async () => {
    const app = new Hono();
    app.get("/r", websocket(Recorder, { resume: true }));
    const handed = await upgraded(app, "/r", undefined);
    expect(handed).toBeInstanceOf(Connection);
    expect(handed.protocol).toBe("");
  });

  it("an EdgeSocket's offer on a route without resume, or a server without sessions, gets a plain connection", async () => {
    const plain = new Hono();
    plain.get("/p", websocket(Recorder));
    const handed = await upgraded(plain, "/p", `${RESUME_PROTOCOL}, ${PLAIN_PROTOCOL}`);
    expect(handed.protocol).toBe(PLAIN_PROTOCOL);
    // Hidden from the handler: it chose none.
    expect((handed as Connection).handler.protocol).toBe("");
    const resumable = new Hono();
    resumable.get("/r", websocket(Recorder, { resume: true }));
    const noSessions = new Runtime({ upgrade: () => new Response(), sessions: false });
    const refused = await upgraded(resumable, "/r", `${RESUME_PROTOCOL}, ${PLAIN_PROTOCOL}`, noSessions);
    expect(refused).toBeInstanceOf(Connection);
    expect(refused.protocol).toBe(PLAIN_PROTOCOL);
  });

  it("at maxConnections a plain upgrade is refused with 503, an EdgeSocket's is accepted (its hello may resume)", async () => {
    const app = new Hono();
    app.get("/r", websocket(Recorder, { resume: true, maxConnections: 1 }));
    const handed: SocketEvents[] = [];
    const full = new Runtime({ upgrade: (_c, socket) => (handed.push(socket), new Response("up")) });
    full.connections.add(new Connection(new Recorder(), resolveOptions(), undefined, full));
    const fetch = (protocols?: string) =>
      app.fetch(new Request("http://localhost/r", { headers: upgradeHeaders(protocols) }), { [RUNTIME]: full });
    const plain = await fetch();
    expect([plain.status, await plain.text()]).toEqual([503, "too many connections"]);
    expect(await (await fetch(`${RESUME_PROTOCOL}, ${PLAIN_PROTOCOL}`)).text()).toBe("up");
    expect(handed).toHaveLength(1);
    expect(handed[0]).toBeInstanceOf(SessionLink);
  });

  it("resumableRoutes lists the paths of the routes with resume", () => {
    const app = new Hono();
    app.get("/plain", websocket(Recorder));
    app.get("/a", websocket(Recorder, { resume: true }));
    app.get("/b/:id", websocket(Recorder, { resume: { window: 5 } }));
    app.get("/page", (c) => c.text("page"));
    expect(resumableRoutes(app)).toEqual(["/a", "/b/:id"]);
    expect(resumableRoutes({})).toEqual([]);
  });
});
