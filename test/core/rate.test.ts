import { describe, expect, it } from "vitest";
import { RATE_EXCEEDED_REASON } from "../../src/core/connection.ts";
import { CloseCode } from "../../src/core/constants.ts";
import { MessageRate } from "../../src/core/rate.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

describe("MessageRate#exceeded", () => {
  it("allows perSecond messages in a window, not one more", () => {
    const rate = new MessageRate(3);
    expect([1000, 1001, 1002, 1003].map((t) => rate.exceeded(t))).toEqual([false, false, false, true]);
  });

  it("starts counting again in the next one-second window", () => {
    const rate = new MessageRate(1);
    expect([rate.exceeded(1000), rate.exceeded(1999), rate.exceeded(2000)]).toEqual([false, true, false]);
  });
});

describe("maxMessagesPerSecond", () => {
  it("closes a socket past the limit with 1008 and delivers nothing more", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { maxMessagesPerSecond: 2 });
    const seen: unknown[] = [];
    connection.handler.onMessage = (message) => void seen.push(message);
    for (const message of ["a", "b", "c", "d"]) connection.receive(message);
    expect(seen).toEqual(["a", "b"]);
    expect(transport.closes).toEqual([[CloseCode.POLICY_VIOLATION, RATE_EXCEEDED_REASON]]);
  });

  it("is off by default", () => {
    const { connection, transport } = openConnection(new FakeBufferedTransport());
    for (let i = 0; i < 10_000; i++) connection.receive("m");
    expect(transport.closes).toEqual([]);
  });
});
