/**
 * The load client's side of the resume protocol (bench/wire.ts) on frames fed by hand: what it writes (hello,
 * acknowledgements) and which server frames break the echo. `npm run bench -- --scenarios resume` drives the real
 * servers; here each rule is checked on its own, split across socket reads where it matters.
 */
import type net from "node:net";
import { afterEach, describe, expect, test, vi } from "vitest";
import { Conn, OP_TEXT } from "../../bench/wire.ts";

const PAYLOAD = Buffer.from("edgesocket-bench");

/** A server frame: unmasked, short. */
function serverFrame(text: string | Buffer): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x80 | OP_TEXT, payload.length]), payload]);
}

/** The text of each client frame written (masked with the zero key: payload after 6 header bytes). */
function written(writes: Buffer[]): string[] {
  return writes.map((frame) => frame.subarray(6).toString("utf8"));
}

/** A resume connection on a stand-in socket that records what is written, and how deep it is corked. */
function resumeConn() {
  const writes: Buffer[] = [];
  const corks = { depth: 0 };
  const socket = {
    destroyed: false,
    write: (data: Buffer) => writes.push(data),
    cork: () => corks.depth++,
    uncork: () => corks.depth--,
  } as unknown as net.Socket;
  const conn = new Conn(socket, PAYLOAD, OP_TEXT, true);
  return { conn, writes, corks };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the bench client's resume protocol", () => {
  test("hello, then a welcome split across reads opens the session; control frames are not messages", async () => {
    const { conn, writes } = resumeConn();
    conn.resume!.hello();
    expect(written(writes)).toEqual(["\0h0 "]);
    const welcome = serverFrame("\0w0 0 SESSIONID ");
    conn.onData(welcome.subarray(0, 3));
    conn.onData(welcome.subarray(3));
    await conn.resume!.welcomed;
    expect(conn.resume!.session).toBe("SESSIONID");
    expect(conn.received).toBe(0);
    expect(conn.bad).toBe(0);
  });

  test("acknowledges after 64 messages, and 100 ms after the first one not acknowledged", async () => {
    vi.useFakeTimers();
    const { conn, writes, corks } = resumeConn();
    conn.onData(serverFrame("\0w0 0 S "));
    const echoes = Buffer.concat(Array.from({ length: 65 }, () => serverFrame(PAYLOAD)));
    conn.onData(echoes);
    expect(conn.received).toBe(65);
    expect(written(writes)).toEqual(["\0a64"]);
    // Held for the echoes' write of this turn, then let go.
    expect(corks.depth).toBe(1);
    await Promise.resolve();
    expect(corks.depth).toBe(0);
    vi.advanceTimersByTime(99);
    expect(writes).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(written(writes)).toEqual(["\0a64", "\0a65"]);
    expect(conn.bad).toBe(0);
  });

  test("the server's acknowledgements may confirm no more than was sent, never less than before", () => {
    const { conn } = resumeConn();
    conn.onData(serverFrame("\0w0 0 S "));
    conn.sent = 10;
    conn.onData(serverFrame("\0a10"));
    expect(conn.resume!.confirmed).toBe(10);
    expect(conn.bad).toBe(0);
    conn.onData(serverFrame("\0a11"));
    conn.onData(serverFrame("\0a9"));
    expect(conn.bad).toBe(2);
  });

  test("a frame out of protocol breaks the echo: a resumed welcome, a second welcome, an ack before the welcome", () => {
    for (const frames of [["\0w0 1 S "], ["\0w0 0 S ", "\0w0 0 T "], ["\0a0"], ["\0w0 0 S ", "\0hx"]]) {
      const { conn } = resumeConn();
      for (const frame of frames) conn.onData(serverFrame(frame));
      expect(conn.bad, JSON.stringify(frames)).toBe(1);
    }
  });

  test("an escaped text (U+0000 twice) breaks the echo: the bench's payload never starts with U+0000", () => {
    const { conn } = resumeConn();
    conn.onData(serverFrame("\0w0 0 S "));
    conn.onData(serverFrame(PAYLOAD));
    expect(conn.received).toBe(1);
    expect(conn.bad).toBe(0);
    conn.onData(serverFrame("\0\0x"));
    expect(conn.received).toBe(1);
    expect(conn.bad).toBe(1);
  });
});
