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

  describe("its members", () => {
    /** A watched socket that leaves the heartbeat as soon as it is terminated, as a runtime's close event does. */
    interface Peer extends Watched {
      name: string;
      heard: number;
      pings: number;
      terminated: number;
      /** Another member that leaves with this one (as when its onClose closes another connection at once). */
      leavesWith?: Peer;
    }

    const round = () => vi.advanceTimersByTime(5000); // idleTimeout 10 s: a round every 5 s

    function peers(heartbeat: Heartbeat) {
      const limits = { ...DEFAULT_LIMITS, idleTimeout: 10 };
      return (name: string, answers: boolean, heard = 0): Peer => {
        const p: Peer = {
          name,
          limits,
          heard,
          pings: 0,
          terminated: 0,
          ping() {
            p.pings++;
            if (answers) p.heard++;
          },
          terminate() {
            p.terminated++;
            heartbeat.unwatch(p);
            if (p.leavesWith) heartbeat.unwatch(p.leavesWith);
          },
        };
        return p;
      };
    }

    it("a member that takes the slot of one that left keeps its own count from the last round", () => {
      vi.useFakeTimers();
      const heartbeat = new Heartbeat();
      const peer = peers(heartbeat);
      const [a, b, silent] = [peer("a", true), peer("b", true, 3), peer("silent", false, 7)];
      for (const p of [a, b, silent]) heartbeat.watch(p);
      round(); // all pinged once: none was checked before
      heartbeat.unwatch(b); // silent moves into b's slot, with its 7, not b's 3
      round();
      expect([silent.pings, silent.terminated, a.pings, b.pings]).toEqual([1, 1, 2, 1]);
      heartbeat.unwatch(a);
      expect([heartbeat.timers, vi.getTimerCount()]).toEqual([0, 0]);
    });

    it("members that leave during a round are not seen again in it; one watched twice is one member", () => {
      vi.useFakeTimers();
      const heartbeat = new Heartbeat();
      const peer = peers(heartbeat);
      const [a, silent, b] = [peer("a", true), peer("silent", false), peer("b", true)];
      silent.leavesWith = b;
      for (const p of [a, silent, b, a]) heartbeat.watch(p);
      round();
      round(); // silent is terminated, and b leaves with it before its turn
      round();
      expect([a.pings, silent.pings, silent.terminated, b.pings, b.terminated]).toEqual([3, 1, 1, 1, 0]);
      heartbeat.unwatch(b); // not a member any more: nothing happens
      heartbeat.unwatch(a);
      expect([heartbeat.timers, vi.getTimerCount()]).toEqual([0, 0]);
    });

    it("refuses a member of another heartbeat (its one slot would hold two places)", () => {
      const [one, two] = [new Heartbeat(), new Heartbeat()];
      const p = peers(one)("p", true);
      one.watch(p);
      expect(() => two.watch(p)).toThrow("already watched by another heartbeat");
      one.unwatch(p);
      two.watch(p);
      two.unwatch(p);
      expect([one.timers, two.timers]).toEqual([0, 0]);
    });

    it("a member watched again after it left starts over: pinged before it can be dropped", () => {
      vi.useFakeTimers();
      const heartbeat = new Heartbeat();
      const silent = peers(heartbeat)("silent", false);
      heartbeat.watch(silent);
      round();
      heartbeat.unwatch(silent);
      heartbeat.watch(silent);
      round();
      expect([silent.pings, silent.terminated]).toEqual([2, 0]);
      round();
      expect([silent.pings, silent.terminated]).toEqual([2, 1]);
      expect([heartbeat.timers, vi.getTimerCount()]).toEqual([0, 0]);
    });
  });
});
