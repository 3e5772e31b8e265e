import { describe, expect, it } from "vitest";
import { SLOW_CONSUMER_REASON, type Transport } from "../../src/core/connection.ts";
import { CloseCode, ReadyState } from "../../src/core/constants.ts";
import { WebSocketClosedError } from "../../src/core/errors.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

describe("#send", () => {
  it("returns true while the send buffer is at or below highWaterMark", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { highWaterMark: 100 });
    transport.growth = 50;
    expect([connection.send("a"), connection.send("b")]).toEqual([true, true]);
  });

  it("returns false once the buffer is above highWaterMark, and still sends the message", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { highWaterMark: 100 });
    transport.bufferedAmount = 101;
    expect(connection.send("queued")).toBe(false);
    expect(transport.sent).toEqual(["queued"]);
    expect(connection.readyState).toBe(ReadyState.OPEN);
  });

  it("closes a slow consumer with 1008 once the buffer is above maxBufferedAmount", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { maxBufferedAmount: 1000 });
    transport.bufferedAmount = 1001;
    expect(connection.send("x")).toBe(false);
    expect(transport.closes).toEqual([[CloseCode.POLICY_VIOLATION, SLOW_CONSUMER_REASON]]);
    expect(() => connection.send("y")).toThrow(WebSocketClosedError);
  });

  it("never closes for the buffer when maxBufferedAmount is 0", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { maxBufferedAmount: 0 });
    transport.bufferedAmount = 1e12;
    expect(connection.send("x")).toBe(false);
    expect(transport.closes).toEqual([]);
  });

  it("closes when the runtime dropped a message (buffer reported as Infinity), even with the limit off", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { maxBufferedAmount: 0 });
    transport.bufferedAmount = Number.POSITIVE_INFINITY;
    expect(connection.send("x")).toBe(false);
    expect(transport.closes).toEqual([[CloseCode.POLICY_VIOLATION, SLOW_CONSUMER_REASON]]);
  });

  it("returns true where the runtime reports no buffer (1/2 workerd)", () => {
    const sent: unknown[] = [];
    const transport: Transport = { send: (data) => sent.push(data), close() {} };
    const { connection } = openConnection(transport, { highWaterMark: 0 });
    expect(connection.send("x")).toBe(true);
    expect(connection.bufferedAmount).toBe(0);
  });
});

describe("#deliver (a publication)", () => {
  it("closes a slow subscriber with 1008 once its buffer is above maxBufferedAmount, as send does", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { maxBufferedAmount: 1000 });
    connection.deliver("first");
    transport.bufferedAmount = 1001;
    connection.deliver("second");
    expect(transport.sent).toEqual(["first", "second"]);
    expect(transport.closes).toEqual([[CloseCode.POLICY_VIOLATION, SLOW_CONSUMER_REASON]]);
  });

  it("never throws, even when the runtime refuses the send", () => {
    const refusing: Transport = {
      send: () => {
        throw new Error("socket closing");
      },
      close: () => {},
      bufferedAmount: 0,
    };
    const { connection } = openConnection(refusing);
    expect(() => connection.deliver("x")).not.toThrow();
  });
});

describe("#drained", () => {
  it("resolves at once when there is room (2/2 no buffer reported)", async () => {
    const { connection } = openConnection(new FakeBufferedTransport());
    await expect(connection.drained()).resolves.toBeUndefined();
  });

  it("waits until the buffer falls to highWaterMark, seen on the adapter's drain event", async () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { highWaterMark: 10 });
    transport.bufferedAmount = 11;
    let done = false;
    const waiting = connection.drained().then(() => (done = true));
    connection.writable();
    await Promise.resolve();
    expect(done).toBe(false);
    transport.bufferedAmount = 10;
    connection.writable();
    await waiting;
    expect(done).toBe(true);
  });

  it("notices room by polling when the runtime sends no drain event", async () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { highWaterMark: 0 });
    transport.bufferedAmount = 5;
    const waiting = connection.drained();
    setTimeout(() => (transport.bufferedAmount = 0), 20);
    await expect(waiting).resolves.toBeUndefined();
  });

  it("resolves every waiter when the connection closes", async () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { highWaterMark: 0 });
    transport.bufferedAmount = 5;
    const waiting = Promise.all([connection.drained(), connection.drained()]);
    connection.closed(1006, "");
    await expect(waiting).resolves.toEqual([undefined, undefined]);
  });
});
