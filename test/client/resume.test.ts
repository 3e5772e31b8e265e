/**
 * `EdgeSocket`'s side of resume (src/protocol/resume.ts, docs/resume.md) with a fake clock and the fake sockets of
 * test/client/fakes.ts, the test playing the server: the hello on open, the welcome (resumed or new), the
 * acknowledgements both ways, sending again what the server did not confirm, `unconfirmed` on the open event,
 * RESUME_LATER on `reconnect()`, and `close()` forgetting the session. Real servers: test/conformance/resume-*.ts.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  EdgeSocket,
  type EdgeSocketCloseEvent,
  type EdgeSocketOpenEvent,
  type EdgeSocketOptions,
} from "../../src/client/index.ts";
import { PLAIN_PROTOCOL, RESUME_LATER, RESUME_PROTOCOL } from "../../src/protocol/resume.ts";
import { type FakeWebSocket, fakeWebSockets } from "./fakes.ts";

const ID = "AAAAAAAAAAAAAAAAAAAAAAAA";
const OTHER_ID = "BBBBBBBBBBBBBBBBBBBBBBBB";

/** Lets pending promises settle without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

let fake: ReturnType<typeof fakeWebSockets>;

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(0);
  fake = fakeWebSockets();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A client on the fake constructor (retrying after 10 ms), connected as far as its first socket. */
async function client(options: EdgeSocketOptions = {}) {
  const socket = new EdgeSocket("ws://test/", undefined, {
    WebSocket: fake.WebSocket,
    minDelay: 10,
    maxDelay: 10,
    ...options,
  });
  const opens: EdgeSocketOpenEvent[] = [];
  const messages: unknown[] = [];
  const closes: EdgeSocketCloseEvent[] = [];
  socket.addEventListener("open", (event) => opens.push(event));
  socket.addEventListener("message", (event) => messages.push(event.data));
  socket.addEventListener("close", (event) => closes.push(event));
  await settle();
  return { socket, opens, messages, closes };
}

/** What the client sent on `socket`. */
const sentOn = (socket: FakeWebSocket) => socket.sent;

/** The server side of a resume handshake on the newest socket: it opens, then welcomes. */
function welcome(received: number, resumed: boolean, id: string, reason = ""): FakeWebSocket {
  const socket = fake.last();
  if (socket.readyState === 0) socket.open(RESUME_PROTOCOL);
  socket.receive(`\0w${received} ${resumed ? 1 : 0} ${id} ${reason}`);
  return socket;
}

/** Drops the newest socket and waits for the retry's socket. */
async function drop(): Promise<FakeWebSocket> {
  const count = fake.sockets.length;
  fake.last().drop(1006);
  await vi.advanceTimersByTimeAsync(10);
  expect(fake.sockets).toHaveLength(count + 1);
  return fake.last();
}

describe("EdgeSocket resume: the handshake", () => {
  test("on a socket that chose the resume protocol the first frame is the hello; open waits for the welcome", async () => {
    const { socket, opens } = await client();
    fake.last().open(RESUME_PROTOCOL);
    expect(sentOn(fake.last())).toEqual(["\0h0 "]);
    expect(socket.readyState).toBe(EdgeSocket.CONNECTING);
    expect(opens).toEqual([]);
    welcome(0, false, ID);
    expect(socket.readyState).toBe(EdgeSocket.OPEN);
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ resumed: false, unconfirmed: [] });
    expect(socket.protocol).toBe(""); // edgesocket's own protocols are not shown
  });

  test("a route without resume (edgesocket.v1): no hello, open at once, messages as they are", async () => {
    const { socket, opens, messages } = await client();
    fake.last().open(PLAIN_PROTOCOL);
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ resumed: false, unconfirmed: [] });
    socket.send("\0raw");
    fake.last().receive("\0w0 1 x");
    expect(sentOn(fake.last())).toEqual(["\0raw"]);
    expect(messages).toEqual(["\0w0 1 x"]);
    expect(socket.unconfirmed).toBe(0);
    expect(socket.protocol).toBe("");
  });

  test("resume: false offers nothing of edgesocket's and sends no hello", async () => {
    const { opens } = await client({ resume: false });
    expect(fake.last().protocols).toBeUndefined();
    fake.last().open();
    expect(sentOn(fake.last())).toEqual([]);
    expect(opens).toHaveLength(1);
  });

  test("no welcome within connectionTimeout: the socket is left with RESUME_LATER and the attempt retried", async () => {
    const { closes } = await client({ connectionTimeout: 500 });
    fake.last().open(RESUME_PROTOCOL);
    await vi.advanceTimersByTimeAsync(500);
    expect(fake.sockets[0]!.closedWith).toEqual([RESUME_LATER, undefined]);
    expect(closes[0]).toMatchObject({ code: 1006, reason: "connection timeout", willRetry: true });
  });

  test.each([
    ["a second welcome", `\0w0 1 ${ID}`],
    ["an unknown control frame", "\0x1"],
  ])("%s closes the socket with 4002", async (_, frame) => {
    const { closes } = await client();
    welcome(0, false, ID).receive(frame);
    expect(fake.last().closedWith).toEqual([4002, "unexpected frame"]);
    await settle();
    expect(closes[0]).toMatchObject({ code: 4002, willRetry: false });
  });
});

describe("EdgeSocket resume: messages and acknowledgements", () => {
  test("what waited for the connection is sent after the welcome, escaped, and kept until acknowledged", async () => {
    const { socket } = await client();
    socket.send("a");
    socket.send("\0b");
    const server = welcome(0, false, ID);
    expect(sentOn(server)).toEqual(["\0h0 ", "a", "\0\0b"]);
    expect(socket.unconfirmed).toBe(2);
    server.receive("\0a1");
    expect(socket.unconfirmed).toBe(1);
    socket.send("c");
    expect(sentOn(server).at(-1)).toBe("c");
    expect(socket.unconfirmed).toBe(2);
    server.receive("\0a3");
    expect(socket.unconfirmed).toBe(0);
    server.receive("\0a9"); // more than was sent: nothing to drop
    expect(socket.unconfirmed).toBe(0);
  });

  test("data messages arrive unescaped and are acknowledged 100 ms after the first, or at once every 64", async () => {
    const { messages } = await client();
    const server = welcome(0, false, ID);
    server.receive("one");
    server.receive("\0\0two");
    expect(messages).toEqual(["one", "\0two"]);
    await vi.advanceTimersByTimeAsync(99);
    expect(sentOn(server)).toEqual(["\0h0 "]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sentOn(server)).toEqual(["\0h0 ", "\0a2"]);
    for (let i = 3; i <= 66; i++) server.receive(`m${i}`);
    expect(sentOn(server).at(-1)).toBe("\0a66");
    await vi.advanceTimersByTimeAsync(1000);
    expect(sentOn(server)).toHaveLength(3);
  });
});

describe("EdgeSocket resume: after a drop", () => {
  test("the hello asks for the session with the count received; a resumed welcome sends again what the server missed", async () => {
    const { socket, opens, messages } = await client();
    const first = welcome(0, false, ID);
    for (const data of ["c1", "c2", "c3"]) socket.send(data);
    first.receive("\0a1");
    first.receive("s1");
    first.receive("s2");
    expect(socket.unconfirmed).toBe(2);

    const second = await drop();
    expect(socket.readyState).toBe(EdgeSocket.CONNECTING);
    socket.send("c4"); // while away: waits
    second.open(RESUME_PROTOCOL);
    expect(sentOn(second)).toEqual([`\0h2 ${ID}`]);
    // The server had received c1 and c2: c3 and c4 follow the welcome, in order, then what the server replays.
    welcome(2, true, ID);
    second.receive("s3");
    expect(sentOn(second)).toEqual([`\0h2 ${ID}`, "c3", "c4"]);
    expect(opens[1]).toMatchObject({ resumed: true, unconfirmed: [] });
    expect(messages).toEqual(["s1", "s2", "s3"]);
    expect(socket.unconfirmed).toBe(2);
    second.receive("\0a4");
    expect(socket.unconfirmed).toBe(0);

    const third = await drop();
    third.open(RESUME_PROTOCOL);
    expect(sentOn(third)).toEqual([`\0h3 ${ID}`]);
  });

  test("a new session in the welcome: the open event hands back what the old one never confirmed, sent no more", async () => {
    const { socket, opens } = await client();
    const first = welcome(0, false, ID);
    for (const data of ["c1", "c2", "c3"]) socket.send(data);
    first.receive("\0a1");
    first.receive("s1");
    const second = await drop();
    socket.send("c4"); // never sent in the old session: it goes to the new one
    second.open(RESUME_PROTOCOL);
    welcome(0, false, OTHER_ID, "session not found: expired, ended or unknown");
    expect(opens[1]).toMatchObject({ resumed: false, unconfirmed: ["c2", "c3"] });
    expect(sentOn(second)).toEqual([`\0h1 ${ID}`, "c4"]);
    expect(socket.unconfirmed).toBe(1);
    second.receive("\0a1");
    expect(socket.unconfirmed).toBe(0);
    // Counted afresh in the new session.
    const third = await drop();
    third.open(RESUME_PROTOCOL);
    expect(sentOn(third)).toEqual([`\0h0 ${OTHER_ID}`]);
  });

  test("reconnect() leaves the socket with RESUME_LATER and resumes on the next", async () => {
    const { socket } = await client();
    const first = welcome(0, false, ID);
    first.receive("s1");
    socket.reconnect();
    expect(first.closedWith).toEqual([RESUME_LATER, undefined]);
    await settle();
    fake.last().open(RESUME_PROTOCOL);
    expect(sentOn(fake.last())).toEqual([`\0h1 ${ID}`]);
  });

  test("an acknowledgement due when reconnect() moves to a new socket is not sent on it (the hello carries the count)", async () => {
    const { socket } = await client();
    welcome(0, false, ID).receive("s1");
    socket.reconnect();
    await settle();
    const next = fake.last();
    await vi.advanceTimersByTimeAsync(200); // the old socket's acknowledgement was due at 100 ms
    next.open(RESUME_PROTOCOL);
    await vi.advanceTimersByTimeAsync(200);
    expect(sentOn(next)).toEqual([`\0h1 ${ID}`]);
  });

  test("reconnect(code) ends the session: the next hello asks for none", async () => {
    const { socket } = await client();
    const first = welcome(0, false, ID);
    socket.send("c1");
    socket.reconnect(1000, "new start");
    expect(first.closedWith).toEqual([1000, "new start"]);
    await settle();
    fake.last().open(RESUME_PROTOCOL);
    expect(sentOn(fake.last())).toEqual(["\0h0 "]);
  });

  test("close() forgets the session: after reconnect() the hello asks for none", async () => {
    const { socket } = await client();
    welcome(0, false, ID);
    socket.send("c1");
    socket.close(1000, "bye");
    expect(socket.unconfirmed).toBe(0);
    await settle();
    socket.reconnect();
    await settle();
    fake.last().open(RESUME_PROTOCOL);
    expect(sentOn(fake.last())).toEqual(["\0h0 "]);
  });

  test("a server that no longer resumes (edgesocket.v1 after a session): the session is forgotten, the rest sent as is", async () => {
    const { socket, opens } = await client();
    const first = welcome(0, false, ID);
    socket.send("c1");
    socket.send("c2");
    first.receive("\0a1");
    const second = await drop();
    socket.send("\0c3");
    second.open(PLAIN_PROTOCOL);
    expect(opens[1]).toMatchObject({ resumed: false, unconfirmed: ["c2"] });
    expect(sentOn(second)).toEqual(["\0c3"]);
    socket.send("\0c4");
    expect(sentOn(second)).toEqual(["\0c3", "\0c4"]);
    expect(socket.unconfirmed).toBe(0);
  });
});
