/**
 * Hardening suite, run on every real runtime: backpressure and slow consumers, heartbeat,
 * connection and rate limits, graceful shutdown, churn and oversized floods, and a soak.
 * Each `<runtime>.test.ts` declares what its runtime can do; where it cannot, the suite checks
 * the documented behaviour instead (README "Reliability" and "Known runtime limits").
 */
import type { Socket } from "node:net";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type Client, handshake, openClient, openDeafClient, pollJSON, upgradeHeaders } from "../helpers/client.ts";
import { openRoomClient } from "../conformance/rooms.ts";
import { entryOf, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";
import { soak } from "./soak.ts";

export interface HardeningCaps {
  /** The runtime reports its send buffer (`bufferedAmount`): congestion and slow-consumer closes work. */
  reportsBuffer: boolean;
  /**
   * How a peer that answers no pings is closed: the close code it receives, `null` for a TCP drop
   * without a close frame; `false` where the server cannot ping (the peer stays open).
   */
  deadPeerClose: number | null | false;
  /** The entry's SIGTERM shuts down gracefully (workerd: the process cannot be signalled). */
  gracefulShutdown: boolean;
  /** The server can report its RSS (`/stats`). */
  reportsMemory: boolean;
  /**
   * The runtime drops TCP right after its close frame while the peer is still sending, so such a
   * peer may get a reset (1006) instead of the close code (Deno).
   */
  resetsWhilePeerSends?: boolean;
  /** The runtime drops messages past its own send-buffer ceiling (Bun: 16 MiB), which closes with 1008. */
  dropsPastOwnLimit?: boolean;
  /**
   * The runtime reports a socket closed as soon as it sent its close frame, without waiting for
   * the peer's (Bun): a deaf peer does not hold up shutdown, which stops listening at once.
   */
  closesWithoutPeerReply?: boolean;
  /**
   * The runtime publishes natively (Bun): a slow subscriber is held to the runtime's own send-buffer
   * limit (16 MiB), not to the route's `maxBufferedAmount`; past it, the runtime drops publications.
   */
  publishesNatively?: boolean;
  /** The code `onClose` gets when the rate limit closes a socket; absent: 1008. */
  rateLimitOnClose?: number;
}

interface Stats {
  connections: number;
  rss: number | null;
}

interface FloodStats {
  sent: number;
  congested: number;
  stateAtEnd: number | null;
  closed: number;
  codes: number[];
}

const MiB = 1024 * 1024;
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 5);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let nextId = 0;

export function runHardening(runtime: RuntimeName, caps: HardeningCaps): void {
  describe(`hardening on ${runtime}`, () => {
    let server: RunningServer;
    const clients: Client[] = [];
    const open = async (path: string) => {
      const client = await openClient(`${server.wsURL}${path}`);
      clients.push(client);
      return client;
    };
    const stats = () => pollJSON<Stats>(`${server.httpURL}/stats`, () => true);
    const connectionsBecome = async (n: number, ms = 15_000) => {
      const seen = await pollJSON<Stats>(`${server.httpURL}/stats`, (s) => s.connections === n, ms);
      expect(seen.connections).toBe(n);
      return seen;
    };
    const floodStats = (id: string, accept: (s: FloodStats) => boolean, ms = 30_000) =>
      pollJSON<FloodStats>(`${server.httpURL}/flood-stats/${id}`, (s) => s !== null && accept(s), ms);
    const uniqueId = () => `${runtime}-${process.pid}-h${nextId++}`;
    const socketOf = (client: Client) => (client.ws as unknown as { _socket: Socket })._socket;

    beforeAll(async () => {
      server = await startServer(runtime, entryOf(runtime, "fixture"));
    });
    afterEach(async () => {
      for (const client of clients.splice(0)) client.ws.terminate();
      await connectionsBecome(0);
    });
    afterAll(async () => {
      await server?.stop();
    });

    describe("backpressure", () => {
      const mib = caps.reportsBuffer ? 64 : 16;
      test(
        caps.reportsBuffer
          ? "a client that stops reading is closed with 1008 once 1 MiB waits; memory stays bounded; others unaffected"
          : "workerd reports no send buffer: send stays true, the flood is not closed (documented limit)",
        async () => {
          const before = await stats();
          const id = uniqueId();
          const slow = await open(`/flood/${id}?mib=${mib}`);
          socketOf(slow).pause();
          const control = await open("/echo");
          const ended = await floodStats(id, (s) => s.stateAtEnd !== null);
          control.ws.send("still served");
          expect(await control.message()).toBe("still served");
          if (caps.reportsBuffer) {
            expect(ended.stateAtEnd).not.toBe(1);
            expect(ended.sent).toBeLessThan(32 * MiB);
            if (caps.reportsMemory) expect((await stats()).rss! - before.rss!).toBeLessThan(64 * MiB);
            socketOf(slow).resume();
            expect(await slow.closed).toEqual({ code: 1008, reason: "slow consumer: send buffer full" });
            const final = await floodStats(id, (s) => s.closed >= 1);
            expect(final.closed).toBe(1);
          } else {
            expect(ended).toMatchObject({ stateAtEnd: 1, congested: 0, sent: mib * MiB });
            socketOf(slow).resume();
            await slow.message(mib * 4);
            expect(slow.messages.length).toBe(mib * 4);
          }
        },
      );

      test(
        caps.dropsPastOwnLimit
          ? "maxBufferedAmount 0: Bun still drops past its 16 MiB backpressureLimit, which closes with 1008 (documented limit)"
          : "maxBufferedAmount 0 turns the slow-consumer close off: 24 MiB wait, then all arrive",
        async () => {
          const id = uniqueId();
          const slow = await open(`/flood-unlimited/${id}?mib=24`);
          socketOf(slow).pause();
          const ended = await floodStats(id, (s) => s.stateAtEnd !== null);
          socketOf(slow).resume();
          if (caps.dropsPastOwnLimit) {
            expect(ended.stateAtEnd).not.toBe(1);
            expect(await slow.closed).toEqual({ code: 1008, reason: "slow consumer: send buffer full" });
          } else {
            expect(ended).toMatchObject({ stateAtEnd: 1, sent: 24 * MiB });
            await slow.message(24 * 4);
            expect(slow.messages.length).toBe(24 * 4);
          }
        },
      );

      test("a producer that awaits drained() delivers every chunk, in order, to a client that pauses", async () => {
        const id = uniqueId();
        const client = await open(`/polite/${id}?count=100`);
        socketOf(client).pause();
        // Paused until the producer saw congestion (workerd reports none: until it handed over every chunk).
        const paused = await floodStats(id, (s) => (caps.reportsBuffer ? s.congested > 0 : s.stateAtEnd !== null));
        socketOf(client).resume();
        if (caps.reportsBuffer) expect(paused.congested).toBeGreaterThan(0);
        await client.message(100);
        expect(client.messages.map((m) => (m as Buffer)[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
        const seen = await floodStats(id, (s) => s.stateAtEnd !== null);
        expect(seen.stateAtEnd).toBe(1);
        if (caps.reportsBuffer) expect(seen.congested).toBeGreaterThan(0);
        else expect(seen.congested).toBe(0);
      });
    });

    describe("highWaterMark and slow subscribers", () => {
      test.skipIf(!caps.reportsBuffer)(
        "send turns false once the buffer passes highWaterMark: 64 KiB by default, a route's 256 KiB",
        async () => {
          const fillOf = async (path: string) => {
            const id = uniqueId();
            const client = await open(`${path}/${id}`);
            socketOf(client).pause();
            const seen = await pollJSON<{ maxBufferedWhenTrue: number; bufferedWhenFalse: number | null } | null>(
              `${server.httpURL}/fill-stats/${id}`,
              (s) => s !== null,
              30_000,
            );
            socketOf(client).resume();
            return seen!;
          };
          const byDefault = await fillOf("/fill");
          expect(byDefault.bufferedWhenFalse).toBeGreaterThan(64 * 1024);
          expect(byDefault.maxBufferedWhenTrue).toBeLessThanOrEqual(64 * 1024);
          const custom = await fillOf("/fill-256k");
          expect(custom.bufferedWhenFalse).toBeGreaterThan(256 * 1024);
          expect(custom.maxBufferedWhenTrue).toBeLessThanOrEqual(256 * 1024);
        },
      );

      test.skipIf(!caps.reportsBuffer)(
        caps.publishesNatively
          ? "Bun publishes natively: a subscriber that stops reading misses what passes Bun's 16 MiB (not the route's 1 MiB) and stays open; a reader gets all"
          : "a subscriber that stops reading is closed with 1008 once 1 MiB of publications waits; a reader gets all",
        async () => {
          const topic = uniqueId();
          const slow = await openRoomClient(`${server.wsURL}/rooms-limited`);
          const reader = await openRoomClient(`${server.wsURL}/rooms-unlimited`);
          clients.push(slow, reader);
          await slow.command({ sub: topic });
          await reader.command({ sub: topic });
          const answers = 1; // each client's own {"ok":"sub"}
          socketOf(slow).pause();
          const mib = caps.publishesNatively ? 24 : 8;
          const res = await fetch(`${server.httpURL}/flood-topic/${topic}?mib=${mib}`, { method: "POST" });
          expect(await res.json()).toEqual({ published: mib * 4 });
          await reader.message(answers + mib * 4);
          expect(reader.messages.length).toBe(answers + mib * 4);
          socketOf(slow).resume();
          if (!caps.publishesNatively) {
            const closed = await Promise.race([slow.closed, sleep(20_000).then(() => "still open after 20 s")]);
            expect(closed).toEqual({ code: 1008, reason: "slow consumer: send buffer full" });
            expect(slow.messages.length - answers).toBeLessThan(mib * 4);
            return;
          }
          // Bun drops what passes its 16 MiB and keeps the subscriber: once drained, a new publication arrives.
          for (let attempt = 0; attempt < 100 && !slow.messages.includes("after the flood"); attempt++) {
            await fetch(`${server.httpURL}/topics/${topic}/publish`, { method: "POST", body: "after the flood" });
            await sleep(100);
          }
          expect(slow.messages).toContain("after the flood");
          expect(slow.ws.readyState).toBe(WebSocket.OPEN);
          const chunks = slow.messages.filter((m) => typeof m !== "string").length;
          expect(chunks).toBeGreaterThan(4); // more than the route's 1 MiB: Bun's own limit applies
          expect(chunks).toBeLessThan(mib * 4); // some were dropped
        },
      );
    });

    describe("heartbeat (idleTimeout 2 s on /heartbeat)", () => {
      test(
        caps.deadPeerClose === false
          ? "workerd cannot ping: a silent peer is neither pinged nor closed (documented limit)"
          : `a peer that answers no pings is closed after at most two unanswered pings, ${
            caps.deadPeerClose === null ? "TCP dropped" : `close ${caps.deadPeerClose}`
          }; a live one that answers three stays`,
        async () => {
          const deadId = uniqueId();
          const liveId = uniqueId();
          const deaf = await openDeafClient("127.0.0.1", server.port, `/heartbeat/${deadId}`);
          const live = await open(`/heartbeat/${liveId}`);
          if (caps.deadPeerClose === false) {
            const outcome = await Promise.race([deaf.closed, sleep(5000).then(() => "open")]);
            expect(outcome).toBe("open");
            expect(deaf.pings()).toBe(0);
            deaf.destroy();
            return;
          }
          let livePings = 0;
          live.ws.on("ping", () => livePings++); // ws answers each with a pong
          // Bounded by pings, not the clock: idleTimeout 2 s pings every 1 s; the margin is for a busy machine.
          const closed = await Promise.race([deaf.closed, sleep(20_000).then(() => null)]);
          expect(closed).not.toBeNull();
          expect(closed!.code).toBe(caps.deadPeerClose);
          expect(deaf.pings()).toBeGreaterThanOrEqual(1);
          expect(deaf.pings()).toBeLessThanOrEqual(2);
          const record = await pollJSON<{ closed: number; codes: number[] } | null>(
            `${server.httpURL}/stats/${deadId}`,
            (s) => s !== null && s.closed >= 1,
          );
          // onClose gets what the peer got; a TCP drop is 1006.
          expect(record).toMatchObject({ closed: 1, codes: [caps.deadPeerClose ?? 1006] });
          const deadline = Date.now() + 20_000;
          while (livePings < 3 && Date.now() < deadline) await sleep(100);
          expect(livePings).toBeGreaterThanOrEqual(3); // answered three pings: past the point the deaf one was closed
          live.ws.send("alive after three pings");
          expect(await live.message(2)).toBe("alive after three pings");
        },
      );
    });

    describe("limits", () => {
      test("maxConnections: past 5 open connections /capped answers 503, below it upgrades; 0 (/uncapped) refuses none", async () => {
        await connectionsBecome(0);
        const five = await Promise.all(Array.from({ length: 5 }, () => open("/echo")));
        await connectionsBecome(5);
        const refused = await handshake(`${server.httpURL}/capped`, { headers: upgradeHeaders() });
        expect([refused.status, refused.body]).toEqual([503, "too many connections"]);
        expect((await handshake(`${server.httpURL}/uncapped`, { headers: upgradeHeaders() })).status).toBe(101);
        five[0]!.ws.close();
        await connectionsBecome(4);
        expect((await handshake(`${server.httpURL}/capped`, { headers: upgradeHeaders() })).status).toBe(101);
        for (const client of five) client.ws.close();
      });

      test("maxMessagesPerSecond: a burst past 50/s closes with 1008; a slower client is served", async () => {
        const slow = await open("/rated");
        for (let i = 0; i < 10; i++) {
          slow.ws.send(`m${i}`);
          await sleep(30);
        }
        await slow.message(10);
        const id = uniqueId();
        const burst = await open(`/rated/${id}`);
        for (let i = 0; i < 100; i++) burst.ws.send(`b${i}`);
        const closed = await burst.closed;
        // Deno may reset a peer that is still sending (1006): the server's onClose shows what it did.
        if (!caps.resetsWhilePeerSends || closed.code !== 1006) {
          expect(closed).toEqual({ code: 1008, reason: "message rate exceeded" });
        }
        const record = await pollJSON<{ closed: number; codes: number[] } | null>(
          `${server.httpURL}/stats/${id}`,
          (s) => s !== null && s.closed >= 1,
        );
        expect(record).toMatchObject({ closed: 1, codes: [caps.rateLimitOnClose ?? 1008] });
        expect(slow.messages).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
      });
    });

    describe("floods", () => {
      test("connect/close churn and 10 MiB messages (1 MiB limit) while a control client keeps being served", async () => {
        const control = await open("/echo");
        let sent = 0;
        let flooding = true;
        const ticking = (async () => {
          while (flooding) {
            control.ws.send(`c${sent++}`);
            await sleep(20);
          }
        })();
        const churn = (async () => {
          for (let round = 0; round < 6; round++) {
            const batch = await Promise.all(Array.from({ length: 50 }, () => openClient(`${server.wsURL}/echo`)));
            batch.forEach((client, i) => (i % 2 ? client.ws.close() : socketOf(client).resetAndDestroy()));
          }
        })();
        const big = Buffer.alloc(10 * MiB, 1);
        const oversized = await Promise.all(Array.from({ length: 8 }, () => open("/echo")));
        for (const client of oversized) client.ws.send(big);
        const codes = await Promise.all(oversized.map(async (client) => (await client.closed).code));
        await churn;
        flooding = false;
        await ticking;
        await control.message(sent);
        expect(codes).toEqual(oversized.map(() => 1009));
        expect(control.messages).toEqual(Array.from({ length: sent }, (_, i) => `c${i}`));
        control.ws.close();
        await control.closed;
      });
    });

    describe("soak", () => {
      test(`1,000 connections × 100 messages over ~${SOAK_SECONDS} s with random drops: in order, no leaks`, {
        timeout: 90_000 + SOAK_SECONDS * 3000,
      }, async () => {
        // A first round of the same width brings the allocators to their working size: the baseline.
        await soak(`${server.wsURL}/echo`, {
          connections: 1000,
          messagesPerConnection: 5,
          durationMs: 500,
          dropShare: 0.1,
        });
        await connectionsBecome(0, 30_000);
        const baseline = await stats();
        const result = await soak(`${server.wsURL}/echo`, {
          connections: 1000,
          messagesPerConnection: 100,
          durationMs: SOAK_SECONDS * 1000,
          dropShare: 0.1,
        });
        const after = await connectionsBecome(0, 30_000);
        // Allocators keep freed pages, so RSS comes back near the baseline, not to the byte.
        const rssCeiling = baseline.rss! * 1.5 + 32 * MiB;
        const settled = caps.reportsMemory
          ? await pollJSON<Stats>(`${server.httpURL}/stats`, (s) => s.rss! <= rssCeiling, 15_000)
          : after;
        console.log(
          `soak on ${runtime}: ${
            JSON.stringify({
              ...result,
              mismatches: result.mismatches.length,
              rssBaselineMiB: baseline.rss && +(baseline.rss / MiB).toFixed(1),
              rssAfterMiB: settled.rss && +(settled.rss / MiB).toFixed(1),
            })
          }`,
        );
        expect(result.mismatches).toEqual([]);
        expect(result.opened).toBe(1000);
        expect(after.connections).toBe(0);
        if (caps.reportsMemory) expect(settled.rss!).toBeLessThanOrEqual(rssCeiling);
      });
    });
  });

  describe(`shutdown on ${runtime}`, () => {
    // workerd has no shutdown hook: stopping wrangler dev drops every socket (1006) with no edgesocket code
    // running, which is the runtime's behaviour and not a test of ours (README, "Known runtime limits").
    test.skipIf(!caps.gracefulShutdown)(
      "SIGTERM with 200 open sockets and one deaf peer: each gets 1001 'server shutting down', new upgrades 503, each onClose runs once, the process exits",
      async () => {
        const demo = await startServer(runtime, entryOf(runtime, "demo"), { readyPath: "/" });
        try {
          const sockets: Client[] = [];
          for (let start = 0; start < 200; start += 50) {
            sockets.push(
              ...(await Promise.all(Array.from({ length: 50 }, () => openClient(`${demo.wsURL}/websocketserver`)))),
            );
          }
          sockets.forEach((client, i) => client.ws.send(`hello ${i}`));
          await Promise.all(sockets.map((client) => client.message()));
          // A peer that never answers the close holds the shutdown until its 5 s timeout (not on Bun).
          const deaf = await openDeafClient("127.0.0.1", demo.port, "/websocketserver");
          demo.signal("SIGTERM");
          const closes = await Promise.all(sockets.map((client) => client.closed));
          expect(closes).toEqual(sockets.map(() => ({ code: 1001, reason: "server shutting down" })));
          const late = handshake(`${demo.httpURL}/websocketserver`, { headers: upgradeHeaders() });
          if (caps.closesWithoutPeerReply) {
            // Refused, or reset when it reaches the listener as it closes: either way not served.
            await expect(late).rejects.toMatchObject({ code: expect.stringMatching(/^ECONN(REFUSED|RESET)$/) });
          } else {
            const refused = await late;
            expect([refused.status, refused.body]).toEqual([503, "server shutting down"]);
          }
          expect((await deaf.closed).code).toBe(1001);
          expect(await Promise.race([demo.exited, sleep(15_000).then(() => "still running")])).toBe(0);
          expect(demo.output().match(/Connection closed/g)?.length).toBe(201);
        } finally {
          await demo.stop();
        }
      },
    );

    test.skipIf(!caps.gracefulShutdown)(
      "shutdown({ code: 4000, reason: 'maintenance', timeout: 2000 }): that close reaches every socket; a deaf peer is ended after the timeout; it settles within timeout + 2 s",
      async () => {
        const fixture = await startServer(runtime, entryOf(runtime, "fixture"));
        try {
          const id = `${runtime}-${process.pid}-shutdown`;
          const tracked = await openClient(`${fixture.wsURL}/tracked/${id}`);
          await tracked.message();
          const deaf = await openDeafClient("127.0.0.1", fixture.port, "/echo");
          const res = await fetch(`${fixture.httpURL}/shutdown?code=4000&reason=maintenance&timeout=2000`, {
            method: "POST",
          });
          expect(await res.text()).toBe("shutting down");
          expect(await tracked.closed).toEqual({ code: 4000, reason: "maintenance" });
          expect((await deaf.closed).code).toBe(4000);
          const settledLine = async () => {
            const deadline = Date.now() + 20_000;
            while (Date.now() < deadline) {
              const match = fixture.output().match(/shutdown settled after (\d+) ms/);
              if (match) return Number(match[1]);
              await sleep(50);
            }
            throw new Error(`shutdown did not settle:\n${fixture.output()}`);
          };
          // A guarantee of the code (timeout, then at most 1 s of grace), with 1 s left for a busy machine.
          expect(await settledLine()).toBeLessThanOrEqual(2000 + 2000);
        } finally {
          await fixture.stop();
        }
      },
    );
  });
}
