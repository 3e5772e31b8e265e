/**
 * A session's message path on one socket, with a fake socket: the frames read without the general reader (data and
 * acknowledgements), the acknowledgements the server sends (after 64 messages, or at most 100 ms after the first one
 * not acknowledged), and escaping both ways. The chaos tests cover drops and resumes over real sockets.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection } from "../../src/core/connection.ts";
import { type Message, WebSocketHandler } from "../../src/index.ts";
import { resolveOptions } from "../../src/core/options.ts";
import { Runtime } from "../../src/core/runtime.ts";
import { SessionLink } from "../../src/core/session.ts";
import { FakeBufferedTransport } from "./fakes.ts";

class Echo extends WebSocketHandler {
  received: Message[] = [];
  override onMessage(message: Message): void {
    this.received.push(message);
    this.send(message);
  }
}

/** A socket of a resume route that said hello: the link, its session's handler and what the socket was sent. */
function helloed() {
  const runtime = new Runtime({ upgrade: () => new Response(null) });
  const handler = new Echo();
  const link = new SessionLink(new Connection(handler, resolveOptions({ resume: true }), undefined, runtime), "/r");
  const socket = new FakeBufferedTransport();
  link.open(socket);
  link.receive("\0h0 ");
  const welcome = socket.sent.shift();
  expect(welcome).toMatch(/^\0w0 0 [\w-]{24} $/);
  return { link, handler, socket, session: runtime.sessions!.get(String(welcome).split(" ")[2]!)! };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("a session's message path", () => {
  it("acknowledges every 64th message at once, the rest at most 100 ms after the first one not acknowledged", () => {
    vi.useFakeTimers();
    const { link, socket } = helloed();
    for (let i = 0; i < 70; i++) link.receive(`m${i}`);
    const acks = () => socket.sent.filter((frame) => String(frame).startsWith("\0a"));
    expect(acks()).toEqual(["\0a64"]);
    // The timer armed by the first message fires 100 ms after it and acknowledges what came since.
    vi.advanceTimersByTime(100);
    expect(acks()).toEqual(["\0a64", "\0a70"]);
    // Nothing new: a timer that fires then sends nothing.
    link.receive("m70");
    for (let i = 71; i < 128; i++) link.receive(`m${i}`);
    expect(acks()).toEqual(["\0a64", "\0a70"]);
    vi.advanceTimersByTime(99);
    expect(acks()).toEqual(["\0a64", "\0a70"]);
    vi.advanceTimersByTime(1);
    expect(acks()).toEqual(["\0a64", "\0a70", "\0a128"]);
    vi.advanceTimersByTime(1000);
    expect(acks()).toHaveLength(3);
    link.closed(1000, "");
  });

  it("keeps what it sent until the client acknowledges it", () => {
    const { link, session } = helloed();
    for (let i = 0; i < 10; i++) link.receive(`m${i}`);
    expect(session.pending).toBe(10);
    link.receive("\0a4");
    expect(session.pending).toBe(6);
    link.receive("\0a10");
    expect(session.pending).toBe(0);
    link.closed(1000, "");
  });

  it.each(["\0ax", "\0a-1", "\0a11", "\0a1 2"])("closes with 1002 on the acknowledgement %j", (frame) => {
    const { link, socket } = helloed();
    for (let i = 0; i < 10; i++) link.receive(`m${i}`);
    link.receive(frame);
    expect(socket.closes).toEqual([[1002, "unexpected control frame"]]);
    link.closed(1002, "");
  });

  it("escapes a text that starts with U+0000 both ways; binary and other texts pass as they are", () => {
    const { link, handler, socket } = helloed();
    const binary = new Uint8Array([0, 1, 2]).buffer;
    link.receive("\0\0starts with U+0000");
    link.receive("plain");
    link.receive(binary);
    expect(handler.received).toEqual(["\0starts with U+0000", "plain", binary]);
    expect(socket.sent).toEqual(["\0\0starts with U+0000", "plain", binary]);
    link.closed(1000, "");
  });

  it("before its hello a socket may send neither data nor an acknowledgement", () => {
    for (const [frame, reason] of [["data", "expected hello"], ["\0a0", "unexpected control frame"]]) {
      const runtime = new Runtime({ upgrade: () => new Response(null) });
      const link = new SessionLink(
        new Connection(new Echo(), resolveOptions({ resume: true }), undefined, runtime),
        "/r",
      );
      const socket = new FakeBufferedTransport();
      link.open(socket);
      link.receive(frame!);
      expect(socket.closes).toEqual([[1002, reason]]);
      link.closed(1002, "");
    }
  });
});
