import { afterEach, describe, expect, it, vi } from "vitest";
import type { Transport } from "../../src/core/connection.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("heartbeat (transports that can ping)", () => {
  it("pings every idleTimeout / 2 and terminates a peer that answered nothing", () => {
    vi.useFakeTimers();
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { idleTimeout: 10 });
    vi.advanceTimersByTime(5000);
    expect([transport.pings, transport.terminated]).toEqual([1, 0]);
    vi.advanceTimersByTime(5000);
    expect([transport.pings, transport.terminated]).toEqual([1, 1]);
    connection.closed(1006, "");
  });

  it("keeps a peer that answers pings (or sends messages) open", () => {
    vi.useFakeTimers();
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { idleTimeout: 10 });
    for (let round = 0; round < 6; round++) {
      vi.advanceTimersByTime(5000);
      if (round % 2) connection.pong();
      else connection.receive("still here");
    }
    expect([transport.pings, transport.terminated]).toEqual([6, 0]);
    connection.closed(1000, "");
  });

  it("terminate does nothing where the runtime cannot terminate", () => {
    const closes: unknown[] = [];
    const { connection } = openConnection({ send() {}, close: (code) => void closes.push(code) });
    connection.terminate();
    expect([connection.readyState, closes]).toEqual([1, []]);
    connection.closed(1000, "");
  });

  it("stops pinging once the connection closed", () => {
    vi.useFakeTimers();
    const { connection, transport } = openConnection(new FakeBufferedTransport(), { idleTimeout: 10 });
    connection.closed(1000, "");
    vi.advanceTimersByTime(60_000);
    expect(transport.pings).toBe(0);
  });

  it("is off with idleTimeout 0, and where the runtime cannot ping (Deno, workerd)", () => {
    vi.useFakeTimers();
    const a = openConnection(new FakeBufferedTransport(), { idleTimeout: 0 });
    const closes: unknown[] = [];
    const noPing: Transport = { send() {}, close: (code) => void closes.push(code) };
    const b = openConnection(noPing, { idleTimeout: 1 });
    vi.advanceTimersByTime(60_000);
    expect([a.transport.pings, a.transport.terminated, closes]).toEqual([0, 0, []]);
    a.connection.closed(1000, "");
    b.connection.closed(1000, "");
  });
});
