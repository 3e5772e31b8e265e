/**
 * The resume chaos scenario (issue: "nothing lost across a reconnect"): a client streams 10,000 messages each way
 * through a TCP proxy that cuts the connection 50 times at random bytes (mid-frame included). Every message must
 * arrive exactly once, in order, both ways; `open` runs once and `onClose` once; no message waits for replay at the
 * end. Shared by the runtimes' test files.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { EdgeSocket, type WebSocketConstructor } from "../../src/client/index.ts";
import { type ChaosProxy, startChaosProxy } from "../helpers/chaos-proxy.ts";
import type { RunningServer } from "../helpers/runtimes.ts";

const MESSAGES = 10_000;
const CUTS = 50;
/** How far the server's stream may run ahead of the client's. */
const LEAD = 500;
const WAIT = { timeout: 60_000, interval: 50 };

/** What `/resume-stats/:id` reports. */
export interface StreamStats {
  opened: number;
  closed: number;
  closes: { code: number; reason: string }[];
  disconnects: number;
  resumes: number;
  received: number;
  wrong: string[];
  sent: number;
  pending: number;
}

/** Registers the chaos test against the server `start()` gives (its `/stream/:id` and `/resume-stats/:id`). */
export function runResumeChaos(start: () => Promise<RunningServer>, timeout = 120_000): void {
  let server: RunningServer;
  let proxy: ChaosProxy;
  beforeAll(async () => {
    server = await start();
    proxy = await startChaosProxy(server.port);
  }, 90_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test(
    `${MESSAGES} messages each way, ${CUTS} cuts at random bytes: all arrive once, in order; open and onClose run once`,
    async () => {
      const id = `chaos-${Math.random().toString(36).slice(2)}`;
      const stats = async (): Promise<StreamStats> => (await fetch(`${server.httpURL}/resume-stats/${id}`)).json();
      const received: string[] = [];
      let outOfOrder = 0;
      let opens = 0;
      let resumedOpens = 0;
      let streamCuts = 0;
      const socket = new EdgeSocket(
        `ws://127.0.0.1:${proxy.port}/stream/${id}?count=${MESSAGES}&lead=${LEAD}`,
        undefined,
        {
          WebSocket: WebSocket as unknown as WebSocketConstructor,
          minDelay: 5,
          maxDelay: 30,
          jitter: 0,
          maxQueued: MESSAGES,
        },
      );
      socket.addEventListener("message", (event) => {
        if (event.data !== `s${received.length + 1}`) outOfOrder++;
        received.push(String(event.data));
      });
      socket.addEventListener("open", (event) => {
        opens++;
        if (event.resumed) resumedOpens++;
        // The next cut falls somewhere in the next few KiB, wherever a frame boundary is.
        if (proxy.cuts < CUTS) proxy.cutAfter(50 + Math.floor(Math.random() * 3000));
      });

      // The client's stream: 50 messages every 5 ms, sent whatever the connection's state (kept until confirmed),
      // slowed down (100 ms at most) while the cuts lag behind it, so that they fall while both streams flow (the
      // server's stays at most LEAD messages ahead of the client's).
      for (let sent = 0; sent < MESSAGES;) {
        for (let i = 0; i < 50; i++) socket.send(`c${++sent}`);
        for (let waited = 0; waited < 100 && proxy.cuts < (CUTS * sent) / MESSAGES; waited += 5) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      streamCuts = proxy.cuts;
      // Cuts that did not happen during the streams (both done) happen now, while only acknowledgements flow.
      for (let round = 0; proxy.cuts < CUTS && round < 2 * CUTS; round++) {
        await expect.poll(() => socket.readyState, WAIT).toBe(EdgeSocket.OPEN);
        // A cut set at the last open may have fallen while waiting.
        if (proxy.cuts >= CUTS) break;
        proxy.cutNow();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await expect.poll(() => received.length, WAIT).toBe(MESSAGES);
      await expect.poll(async () => (await stats()).received, WAIT).toBe(MESSAGES);
      await expect.poll(() => socket.readyState, WAIT).toBe(EdgeSocket.OPEN);
      await expect.poll(async () => (await stats()).pending, WAIT).toBe(0);
      await expect.poll(() => socket.unconfirmed, WAIT).toBe(0);

      const before = await stats();
      expect(proxy.cuts).toBe(CUTS);
      expect(streamCuts).toBeGreaterThanOrEqual(CUTS / 2); // most cuts fell while messages streamed
      expect(outOfOrder).toBe(0);
      expect(received.at(-1)).toBe(`s${MESSAGES}`);
      expect(before).toMatchObject({ opened: 1, closed: 0, wrong: [], sent: MESSAGES, received: MESSAGES });
      expect(before.resumes).toBeGreaterThan(0);
      expect(resumedOpens).toBe(opens - 1); // every open after the first resumed the session

      socket.close(1000, "done");
      await expect.poll(async () => (await stats()).closed, WAIT).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await stats()).toMatchObject({ opened: 1, closed: 1, closes: [{ code: 1000, reason: "done" }] });
    },
    timeout,
  );
}
