import { afterEach, describe, expect, it, vi } from "vitest";
import type { Transport } from "../../src/core/connection.ts";
import type { WebSocketOptions } from "../../src/core/options.ts";
import { Heartbeat, type Watched } from "../../src/core/heartbeat.ts";
import { DEFAULT_LIMITS } from "../../src/core/options.ts";
import { Runtime } from "../../src/core/runtime.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

/** A server whose upgrades the tests never use: the connections are opened by hand on it. */
function server(): Runtime {
  return new Runtime({ upgrade: () => new Response(null) });
}

function watched<T extends Transport>(transport: T, options: WebSocketOptions, runtime = server()) {
  return openConnection(transport, options, runtime);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("heartbeat (transports that can ping)", () => {
  it("pings every idleTimeout / 2 and terminates a peer that answered nothing", () => {
    vi.useFakeTimers();
    const { connection, transport } = watched(new FakeBufferedTransport(), { idleTimeout: 10 });
    vi.advanceTimersByTime(5000);
    expect([transport.pings, transport.terminated]).toEqual([1, 0]);
    vi.advanceTimersByTime(5000);
    expect([transport.pings, transport.terminated]).toEqual([1, 1]);
    connection.closed(1006, "");
  });

  it("keeps a peer that answers pings (or sends messages) open", () => {
    vi.useFakeTimers();
    const { connection, transport } = watched(new FakeBufferedTransport(), { idleTimeout: 10 });
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
    const { connection, transport } = watched(new FakeBufferedTransport(), { idleTimeout: 10 });
    connection.closed(1000, "");
    vi.advanceTimersByTime(60_000);
    expect(transport.pings).toBe(0);
  });

  it("is off with idleTimeout 0, and where the runtime cannot ping (Deno, workerd)", () => {
    vi.useFakeTimers();
    const a = watched(new FakeBufferedTransport(), { idleTimeout: 0 });
    const closes: unknown[] = [];
    const noPing: Transport = { send() {}, close: (code) => void closes.push(code) };
    const b = watched(noPing, { idleTimeout: 1 });
    vi.advanceTimersByTime(60_000);
    expect([a.transport.pings, a.transport.terminated, closes]).toEqual([0, 0, []]);
    a.connection.closed(1000, "");
    b.connection.closed(1000, "");
  });

  it("belongs to its server: each server's timers run for its own connections, one per idleTimeout", () => {
    vi.useFakeTimers();
    const [one, two] = [server(), server()];
    const a = watched(new FakeBufferedTransport(), { idleTimeout: 10 }, one);
    const b = watched(new FakeBufferedTransport(), { idleTimeout: 20 }, two);
    const c = watched(new FakeBufferedTransport(), { idleTimeout: 10 }, two);
    expect([one.heartbeat.timers, two.heartbeat.timers]).toEqual([1, 2]);
    vi.advanceTimersByTime(10_000);
    expect([a.transport.pings, b.transport.pings, c.transport.pings]).toEqual([1, 1, 1]);
    expect([a.transport.terminated, b.transport.terminated, c.transport.terminated]).toEqual([1, 0, 1]);
    for (const { connection } of [a, b, c]) connection.closed(1006, "");
    expect([one.heartbeat.timers, two.heartbeat.timers]).toEqual([0, 0]);
  });

  it("watches each member until it leaves, also when members leave mid-round or from the middle", () => {
    vi.useFakeTimers();
    const heartbeat = new Heartbeat();
    const limits = { ...DEFAULT_LIMITS, idleTimeout: 10 };
    // A peer whose socket leaves the heartbeat as soon as it is terminated, as a runtime's close event does.
    const peer = (name: string, answers: boolean, alsoLeaves?: () => Watched) => {
      const p = {
        name,
        limits,
        heard: 0,
        pings: 0,
        terminated: 0,
        ping() {
          p.pings++;
          if (answers) p.heard++;
        },
        terminate() {
          p.terminated++;
          heartbeat.unwatch(p);
          if (alsoLeaves) heartbeat.unwatch(alsoLeaves()); // as when its onClose closes another connection at once
        },
      } satisfies Watched & Record<string, unknown>;
      return p;
    };
    const peers = [
      peer("a", true),
      peer("silent-b", false, () => peers[1 + 4]!), // f, which then leaves before its turn in that round
      peer("c", true),
      peer("silent-d", false),
      peer("e", true),
      peer("f", true),
    ];
    for (const p of peers) heartbeat.watch(p);
    heartbeat.watch(peers[0]!); // watched twice: still one member
    heartbeat.unwatch(peers[2]!); // leaves from the middle before any round
    heartbeat.unwatch(peers[2]!); // and again: nothing happens
    vi.advanceTimersByTime(5000 * 4);
    const seen = Object.fromEntries(peers.map((p) => [p.name, [p.pings, p.terminated]]));
    expect(seen).toEqual({ a: [4, 0], "silent-b": [1, 1], c: [0, 0], "silent-d": [1, 1], e: [4, 0], f: [1, 0] });
    heartbeat.unwatch(peers[0]!);
    heartbeat.unwatch(peers[4]!);
    expect(heartbeat.timers).toBe(0);
  });
});
