/**
 * The client's lifecycle and backoff with a fake clock (vitest's fake timers) and a fake WebSocket constructor
 * (test/client/fakes.ts): delays, jitter bounds, growth, cap, minUptime, connectionTimeout, maxRetries, the send
 * queue, providers, listeners, the retry policy and typed messages. Real sockets: test/client/runtimes.test.ts and
 * test/browser/client.test.ts.
 */
import * as v from "valibot";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  defaultShouldReconnect,
  EdgeSocket,
  type EdgeSocketCloseEvent,
  type EdgeSocketOptions,
  type InvalidMessageEvent,
  type ReconnectingEvent,
  retryDelay,
} from "../../src/client/index.ts";
import { fakeWebSockets } from "./fakes.ts";

const BACKOFF = { minDelay: 1000, maxDelay: 10_000, growFactor: 1.3, jitter: 0.5 };

/** Lets pending promises (the URL and protocol providers) settle without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

let fake: ReturnType<typeof fakeWebSockets>;
let random: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  vi.useFakeTimers();
  random = vi.spyOn(Math, "random").mockReturnValue(0);
  fake = fakeWebSockets();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A client on the fake constructor, connected as far as its first socket. */
async function client<T = unknown>(
  options: EdgeSocketOptions<T> = {},
  url: string | (() => string | Promise<string>) = "ws://test/",
) {
  const socket = new EdgeSocket<T>(url, undefined, { WebSocket: fake.WebSocket, ...options });
  const events: { type: string; event: Event }[] = [];
  for (const type of ["open", "message", "close", "error", "reconnecting", "invalidmessage"]) {
    socket.addEventListener(type, (event) => events.push({ type, event }));
  }
  await settle();
  const delays = () => events.filter((e) => e.type === "reconnecting").map((e) => (e.event as ReconnectingEvent).delay);
  const closes = () => events.filter((e) => e.type === "close").map((e) => e.event as EdgeSocketCloseEvent);
  return { socket, events, delays, closes };
}

/** Fails the current attempt without opening, then waits out the scheduled delay. */
async function failAttempt(delay: number) {
  fake.last().drop(1006);
  await vi.advanceTimersByTimeAsync(delay);
}

describe("retryDelay", () => {
  test("the first retry waits minDelay, stretched by at most `jitter` of itself", () => {
    expect(retryDelay(1, BACKOFF, () => 0)).toBe(1000);
    expect(retryDelay(1, BACKOFF, () => 0.999_999)).toBe(1500);
  });

  test("each step multiplies the delay by growFactor", () => {
    expect([1, 2, 3, 4, 5].map((step) => retryDelay(step, BACKOFF, () => 0))).toEqual([1000, 1300, 1690, 2197, 2856]);
  });

  test("no delay exceeds maxDelay, jitter included", () => {
    expect(retryDelay(9, BACKOFF, () => 0)).toBe(8157);
    expect(retryDelay(9, BACKOFF, () => 0.999_999)).toBe(10_000);
    expect(retryDelay(50, BACKOFF, () => 0.5)).toBe(10_000);
  });

  test("jittered delays stay within [base, base × (1 + jitter)] (1000 random draws)", () => {
    for (let i = 0; i < 1000; i++) {
      const step = 1 + (i % 5);
      const base = 1000 * 1.3 ** (step - 1);
      const delay = retryDelay(step, BACKOFF);
      expect(delay).toBeGreaterThanOrEqual(Math.round(base));
      expect(delay).toBeLessThanOrEqual(Math.round(base * 1.5));
    }
  });
});

describe("EdgeSocket: connecting and reconnecting", () => {
  test("connects at once; readyState follows the connection; open fires", async () => {
    const { socket, events } = await client();
    expect(fake.sockets).toHaveLength(1);
    expect(fake.last().url).toBe("ws://test/");
    expect(socket.readyState).toBe(EdgeSocket.CONNECTING);
    fake.last().open("chat");
    expect(socket.readyState).toBe(EdgeSocket.OPEN);
    expect(socket.protocol).toBe("chat");
    expect(socket.url).toBe("ws://test/");
    expect(events.map((e) => e.type)).toEqual(["open"]);
  });

  test("a dropped connection is retried after minDelay, not before, with the attempt, delay and cause", async () => {
    const { socket, events } = await client();
    fake.last().open();
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    fake.last().drop(1006);
    expect(socket.readyState).toBe(EdgeSocket.CONNECTING);
    const [close, reconnecting] = events.slice(1).map((e) => e.event) as [EdgeSocketCloseEvent, ReconnectingEvent];
    expect(close).toMatchObject({ type: "close", code: 1006, opened: true, willRetry: true });
    expect(reconnecting).toMatchObject({ attempt: 1, delay: 1000, at: Date.parse("2026-01-01T00:00:01Z") });
    expect(reconnecting.lastClose).toMatchObject({ code: 1006, opened: true });
    expect(socket.nextAttemptAt).toBe(reconnecting.at);
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.sockets).toHaveLength(2);
    fake.last().open();
    expect(socket.nextAttemptAt).toBeUndefined();
  });

  test("delays grow by growFactor while connections keep dropping before minUptime", async () => {
    const { delays } = await client();
    for (const delay of [1000, 1300, 1690]) {
      fake.last().open();
      await vi.advanceTimersByTimeAsync(100);
      await failAttempt(delay);
    }
    expect(delays()).toEqual([1000, 1300, 1690]);
  });

  test("attempts that never open advance the backoff two steps, up to maxDelay, where it stays", async () => {
    const { delays, socket } = await client();
    for (const delay of [1300, 2197, 3713, 6275, 10_000, 10_000]) await failAttempt(delay);
    expect(delays()).toEqual([1300, 2197, 3713, 6275, 10_000, 10_000]);
    expect(socket.retryCount).toBe(6);
  });

  test("jitter spreads the delays (random drawn per attempt)", async () => {
    random.mockReturnValueOnce(0.5).mockReturnValueOnce(0.999_999);
    const { delays } = await client();
    await failAttempt(1625);
    await failAttempt(3296);
    expect(delays()).toEqual([Math.round(1300 * 1.25), Math.round(1000 * 1.3 ** 3 * (1 + 0.5 * 0.999_999))]);
  });

  test("the retry count and the backoff reset only after a connection stayed open for minUptime", async () => {
    const { delays, events } = await client();
    await failAttempt(1300);
    fake.last().open();
    await vi.advanceTimersByTimeAsync(4999);
    await failAttempt(1690); // up 4999 ms: still counting (one step, as it opened)
    fake.last().open();
    await vi.advanceTimersByTimeAsync(5000);
    fake.last().drop(1001);
    expect(delays()).toEqual([1300, 1690, 1000]);
    const attempts = events.filter((e) => e.type === "reconnecting").map((e) => (e.event as ReconnectingEvent).attempt);
    expect(attempts).toEqual([1, 2, 1]);
  });

  test("an attempt not open within connectionTimeout is abandoned and retried", async () => {
    const { closes, delays } = await client({ connectionTimeout: 2000 });
    await vi.advanceTimersByTimeAsync(1999);
    expect(closes()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.sockets[0]!.closedWith).toEqual([undefined, undefined]);
    expect(closes()[0]).toMatchObject({ code: 1006, reason: "connection timeout", opened: false, willRetry: true });
    expect(delays()).toEqual([1300]);
    // The abandoned socket's own close event (from its close()) is ignored.
    await settle();
    expect(closes()).toHaveLength(1);
  });

  test("after maxRetries failed retries the client gives up and is closed for good", async () => {
    const { socket, closes } = await client({ maxRetries: 2 });
    await failAttempt(1300);
    await failAttempt(2197);
    fake.last().drop(1006);
    expect(fake.sockets).toHaveLength(3);
    expect(closes().map((c) => c.willRetry)).toEqual([true, true, false]);
    expect(socket.readyState).toBe(EdgeSocket.CLOSED);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.sockets).toHaveLength(3);
  });

  test("the URL and protocols providers are called before every attempt, async ones awaited", async () => {
    let n = 0;
    const url = vi.fn(async () => `ws://test/?token=${++n}`);
    const protocols = vi.fn(() => [`v${n}`]);
    new EdgeSocket(url, protocols, { WebSocket: fake.WebSocket, resume: false });
    await settle();
    await failAttempt(1300);
    await failAttempt(2197);
    expect(fake.sockets.map((s) => [s.url, s.protocols])).toEqual([
      ["ws://test/?token=1", ["v1"]],
      ["ws://test/?token=2", ["v2"]],
      ["ws://test/?token=3", ["v3"]],
    ]);
    expect(url).toHaveBeenCalledTimes(3);
    expect(protocols).toHaveBeenCalledTimes(3);
  });

  test("by default edgesocket's subprotocols follow the caller's: resume first, then the plain one", async () => {
    new EdgeSocket("ws://test/", "chat", { WebSocket: fake.WebSocket });
    new EdgeSocket("ws://test/", undefined, { WebSocket: fake.WebSocket });
    await settle();
    expect(fake.sockets.map((s) => s.protocols)).toEqual([
      ["chat", "edgesocket.resume.v1", "edgesocket.v1"],
      ["edgesocket.resume.v1", "edgesocket.v1"],
    ]);
  });

  test("a URL provider that rejects counts as a failed attempt", async () => {
    const url = vi.fn().mockRejectedValueOnce(new Error("no token")).mockResolvedValue("ws://test/");
    const { closes } = await client({}, url);
    expect(closes()[0]).toMatchObject({ code: 1006, reason: "no URL: Error: no token", willRetry: true });
    await vi.advanceTimersByTimeAsync(1300);
    expect(fake.sockets).toHaveLength(1);
  });

  test("listeners added once, and on… properties, stay across reconnects", async () => {
    const { socket } = await client();
    const seen: unknown[] = [];
    socket.onmessage = (event) => seen.push(`on:${event.data}`);
    socket.addEventListener("message", (event) => seen.push(`listener:${event.data}`));
    fake.last().open();
    fake.last().receive("one");
    await failAttempt(1000);
    fake.last().open();
    fake.last().receive("two");
    expect(seen).toEqual(["on:one", "listener:one", "on:two", "listener:two"]);
  });

  test("binaryType set once applies to every later socket", async () => {
    const { socket } = await client();
    socket.binaryType = "arraybuffer";
    expect(fake.last().binaryType).toBe("arraybuffer");
    await failAttempt(1300);
    expect(fake.last().binaryType).toBe("arraybuffer");
    expect(socket.binaryType).toBe("arraybuffer");
  });
});

describe("EdgeSocket: the send queue", () => {
  test("messages sent while not open are flushed in order on open, before open listeners run", async () => {
    const { socket } = await client();
    socket.send("a");
    socket.send("b");
    expect(socket.bufferedAmount).toBe(2);
    let sentAtOpen: unknown[] = [];
    socket.addEventListener("open", () => (sentAtOpen = [...fake.last().sent]));
    fake.last().open();
    socket.send("c");
    expect(sentAtOpen).toEqual(["a", "b"]);
    expect(fake.last().sent).toEqual(["a", "b", "c"]);
    expect(socket.bufferedAmount).toBe(0);
  });

  test("messages sent between attempts go out on the next connection, once, in order", async () => {
    const { socket } = await client();
    fake.last().open();
    fake.last().drop(1006);
    socket.send("x");
    socket.send(new Uint8Array([1, 2, 3]));
    await vi.advanceTimersByTimeAsync(1000);
    fake.last().open();
    expect(fake.sockets[0]!.sent).toEqual([]);
    expect(fake.last().sent).toEqual(["x", new Uint8Array([1, 2, 3])]);
  });

  test("a message sent while the server is closing the connection waits for the next one", async () => {
    const { socket } = await client();
    fake.last().open();
    fake.last().readyState = 2; // the server's close frame arrived; the close event has not fired yet
    socket.send("late");
    fake.last().drop(1001, "server shutting down", true);
    await vi.advanceTimersByTimeAsync(1000);
    fake.last().open();
    expect(fake.sockets.map((s) => s.sent)).toEqual([[], ["late"]]);
  });

  test("past maxQueued, send throws a clear error and keeps what it had", async () => {
    const { socket } = await client({ maxQueued: 3 });
    for (const message of ["1", "2", "3"]) socket.send(message);
    expect(() => socket.send("4")).toThrow("3 messages already wait for the connection (maxQueued)");
    fake.last().open();
    expect(fake.last().sent).toEqual(["1", "2", "3"]);
  });

  test("send after close() throws: nothing would ever send it", async () => {
    const { socket } = await client();
    socket.close();
    expect(() => socket.send("late")).toThrow("EdgeSocket is closed: call reconnect() to connect again");
  });
});

describe("EdgeSocket: close, reconnect, startClosed", () => {
  test("close() closes for good: the close event says so and no attempt follows", async () => {
    const { socket, closes } = await client();
    fake.last().open();
    socket.close(4000, "bye");
    expect(socket.readyState).toBe(EdgeSocket.CLOSING);
    expect(fake.last().closedWith).toEqual([4000, "bye"]);
    await settle();
    expect(socket.readyState).toBe(EdgeSocket.CLOSED);
    expect(closes()).toMatchObject([{ code: 4000, reason: "bye", willRetry: false }]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.sockets).toHaveLength(1);
  });

  test("close() while waiting for a retry cancels it", async () => {
    const { socket, closes } = await client();
    fake.last().drop(1006);
    socket.close();
    expect(socket.readyState).toBe(EdgeSocket.CLOSED);
    expect(closes().map((c) => c.willRetry)).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.sockets).toHaveLength(1);
  });

  test("reconnect() closes the connection with its code and connects again at once, retry count reset", async () => {
    const { socket, closes } = await client();
    await failAttempt(1300);
    fake.last().open();
    socket.reconnect(4100, "switching");
    expect(fake.sockets[1]!.closedWith).toEqual([4100, "switching"]);
    expect(closes().at(-1)).toMatchObject({ code: 4100, willRetry: true });
    expect(socket.retryCount).toBe(0);
    await settle();
    expect(fake.sockets).toHaveLength(3);
    fake.last().open();
    expect(socket.readyState).toBe(EdgeSocket.OPEN);
  });

  test("startClosed: nothing connects until reconnect(); messages sent before wait in the queue", async () => {
    const { socket } = await client({ startClosed: true });
    expect(fake.sockets).toHaveLength(0);
    expect(socket.readyState).toBe(EdgeSocket.CLOSED);
    socket.reconnect();
    socket.send("first");
    await settle();
    fake.last().open();
    expect(fake.last().sent).toEqual(["first"]);
  });

  test("no WebSocket constructor anywhere: a clear error at once", () => {
    vi.stubGlobal("WebSocket", undefined);
    try {
      expect(() => new EdgeSocket("ws://test/")).toThrow('no global WebSocket here; pass one, e.g. from "ws"');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  test("nonsense options are refused", () => {
    expect(() => new EdgeSocket("ws://test/", undefined, { WebSocket: fake.WebSocket, maxDelay: 10, minDelay: 20 }))
      .toThrow(RangeError);
  });
});

describe("EdgeSocket: what is retried", () => {
  test.each([1000, 1001, 1006, 1011, 1012, 1013])("a server close with %i is retried", async (code) => {
    const { closes, socket } = await client();
    fake.last().open();
    fake.last().drop(code, "", true);
    expect(closes()[0]).toMatchObject({ code, willRetry: true });
    expect(socket.readyState).toBe(EdgeSocket.CONNECTING);
  });

  test("a drop reported with code 0 (as Deno does) is a 1006, and retried", async () => {
    const { closes } = await client();
    fake.last().open();
    fake.last().drop(0);
    expect(closes()[0]).toMatchObject({ code: 1006, willRetry: true });
  });

  test.each([1008, 4000, 4001, 4099])("a server close with %i (do not come back) is not retried", async (code) => {
    const { closes, socket } = await client();
    fake.last().open();
    fake.last().drop(code, "go away", true);
    expect(closes()[0]).toMatchObject({ code, reason: "go away", willRetry: false });
    expect(socket.readyState).toBe(EdgeSocket.CLOSED);
    expect(() => socket.send("x")).toThrow("closed");
  });

  test.each([
    ["Unexpected server response: 403", 403, false], // Node's ws
    ["NetworkError: failed to connect to WebSocket: Invalid status code: 401", 401, false], // Deno
    ["WebSocket connection to 'ws://x/' failed: Expected 101 status code: 404", 404, false], // Bun
    ["Unexpected server response: 408", 408, true],
    ["Unexpected server response: 429", 429, true],
    ["Unexpected server response: 503", 503, true],
    ["", undefined, true], // a browser: the status is hidden
  ])("a refused handshake (%j) has status %s: retried %s", async (message, status, retried) => {
    const { closes } = await client();
    fake.last().refuse(message);
    expect(closes()[0]).toMatchObject({ code: 1006, opened: false, status, willRetry: retried });
  });

  test("shouldReconnect opts in to what the default refuses (and can refuse what it retries)", async () => {
    const shouldReconnect = (info: { code: number }) => info.code === 4001 || defaultShouldReconnect(info as never);
    const { closes } = await client({ shouldReconnect });
    fake.last().open();
    fake.last().drop(4001, "", true);
    expect(closes()[0]!.willRetry).toBe(true);
    const never = await client({ shouldReconnect: () => false });
    fake.last().drop(1006);
    expect(never.closes()[0]!.willRetry).toBe(false);
  });
});

describe("EdgeSocket: a constructor that throws", () => {
  test("a URL the WebSocket constructor refuses is a failed attempt: closed (1006) and retried", async () => {
    let refusals = 0;
    const Refusing = class {
      constructor() {
        refusals++;
        throw new SyntaxError("Invalid URL");
      }
    };
    const socket = new EdgeSocket("not a url", undefined, { WebSocket: Refusing as never, minDelay: 100, jitter: 0 });
    const closes: EdgeSocketCloseEvent[] = [];
    socket.addEventListener("close", (event) => closes.push(event as EdgeSocketCloseEvent));
    await settle();
    expect([refusals, socket.readyState, closes[0]?.code, socket.retryCount]).toEqual([1, 0, 1006, 1]);
    expect(closes[0]!.reason).toMatch(/Invalid URL/);
    await vi.advanceTimersByTimeAsync(500);
    expect(refusals).toBeGreaterThan(1);
    socket.close();
  });
});

describe("EdgeSocket: typed messages (schema)", () => {
  const Chat = v.object({ name: v.string(), text: v.string() });

  test("a message that passes the schema arrives parsed and typed in event.data", async () => {
    const { socket, events } = await client({ schema: Chat });
    const texts: string[] = [];
    socket.addEventListener("message", (event) => texts.push(event.data.text));
    fake.last().open();
    fake.last().receive(JSON.stringify({ name: "ann", text: "hi" }));
    await settle();
    expect(texts).toEqual(["hi"]);
    expect(events.map((e) => e.type)).toEqual(["open", "message"]);
  });

  test("a message that fails fires invalidmessage with the problems instead of message", async () => {
    const { events } = await client({ schema: Chat });
    fake.last().open();
    fake.last().receive(JSON.stringify({ name: "ann" }));
    fake.last().receive("not json");
    fake.last().receive(new ArrayBuffer(2));
    await settle();
    const invalid = events.filter((e) => e.type === "invalidmessage").map((e) => e.event as InvalidMessageEvent);
    expect(invalid.map((e) => e.data)).toEqual([JSON.stringify({ name: "ann" }), "not json", new ArrayBuffer(2)]);
    expect(invalid[0]!.issues[0]!.path?.map((key) => (key as { key: string }).key)).toEqual(["text"]);
    expect(invalid.slice(1).map((e) => e.issues[0]!.message)).toEqual([
      "the message is not valid JSON",
      "expected a JSON text message, got a binary one",
    ]);
    expect(events.some((e) => e.type === "message")).toBe(false);
  });

  test("a schema that throws makes that message invalid; the messages after it still arrive", async () => {
    const Throws = {
      "~standard": {
        version: 1 as const,
        vendor: "test",
        validate: (value: unknown) => {
          if ((value as { bad?: boolean }).bad) throw new Error("validator bug");
          return { value };
        },
      },
    };
    const { events } = await client({ schema: Throws });
    fake.last().open();
    for (const message of [{ bad: true }, { ok: 1 }, { ok: 2 }]) fake.last().receive(JSON.stringify(message));
    await settle();
    const invalid = events.filter((e) => e.type === "invalidmessage").map((e) => e.event as InvalidMessageEvent);
    expect(invalid.map((e) => e.issues[0]!.message)).toEqual(["the schema threw: Error: validator bug"]);
    const messages = events.filter((e) => e.type === "message").map((e) => (e.event as MessageEvent).data);
    expect(messages).toEqual([{ ok: 1 }, { ok: 2 }]);
  });

  test("messages keep their order when the schema validates asynchronously", async () => {
    const Slow = v.pipeAsync(
      v.number(),
      v.checkAsync(async (n) => {
        await new Promise((done) => setTimeout(done, n));
        return true;
      }, "never"),
    );
    const { socket } = await client({ schema: Slow });
    const seen: number[] = [];
    socket.addEventListener("message", (event) => seen.push(event.data));
    fake.last().open();
    for (const n of [30, 10, 20]) fake.last().receive(String(n));
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([30, 10, 20]);
  });
});
