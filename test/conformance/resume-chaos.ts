/**
 * The resume chaos scenario (issue: "nothing lost across a reconnect"): a client streams 10,000 messages each way
 * through a TCP proxy that cuts the connection 50 times at random bytes (mid-frame included). Every message must
 * arrive exactly once, in order, both ways; `open` runs once and `onClose` once; no message waits for replay at the
 * end. Shared by the runtimes' test files; the client is `EdgeSocket` on Node (over `ws`) unless a
 * {@link ChaosClientFactory} gives another (test/browser/resume-chaos.test.ts: in Chromium). With several servers
 * (sharing their sessions, test/conformance/resume-chaos-redis.test.ts), each new connection goes to the next one,
 * and what they saw is added up.
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

/** What a chaos client has seen so far. */
export interface ChaosClientState {
  /** The `EdgeSocket`'s `readyState`. */
  readyState: number;
  /** Messages received ("s1", "s2", …). */
  received: number;
  /** Messages received that were not the next one. */
  outOfOrder: number;
  /** The last message received. */
  last: string | undefined;
  /** `open` events, and those with `resumed`. */
  opens: number;
  resumedOpens: number;
  /** The `EdgeSocket`'s `unconfirmed`. */
  unconfirmed: number;
}

/** An `EdgeSocket` streaming "c1", "c2", … somewhere, driven by the scenario. */
export interface ChaosClient {
  /** Sends "c`from`" … "c`to`". */
  send(from: number, to: number): Promise<void>;
  state(): Promise<ChaosClientState>;
  /** `close(code, reason)` of the `EdgeSocket`. */
  close(code: number, reason: string): Promise<void>;
  /** Frees what the client holds (a browser page). */
  dispose(): Promise<void>;
}

/**
 * Connects an `EdgeSocket` to `url` (through the proxy: `proxyPort`) that calls `opened()` on each `open` event,
 * retries after 5–30 ms and queues up to 10,000 messages.
 */
export type ChaosClientFactory = (url: string, opened: () => void, proxyPort: number) => Promise<ChaosClient>;

/** The `EdgeSocket` options of every chaos client. */
export const CHAOS_CLIENT_OPTIONS = { minDelay: 5, maxDelay: 30, jitter: 0, maxQueued: MESSAGES } as const;

/** The default client: `EdgeSocket` in this process, over `ws`. */
export const nodeChaosClient: ChaosClientFactory = (url, opened) => {
  const state: ChaosClientState = {
    readyState: 0,
    received: 0,
    outOfOrder: 0,
    last: undefined,
    opens: 0,
    resumedOpens: 0,
    unconfirmed: 0,
  };
  const socket = new EdgeSocket(url, undefined, {
    ...CHAOS_CLIENT_OPTIONS,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  socket.addEventListener("message", (event) => {
    if (event.data !== `s${state.received + 1}`) state.outOfOrder++;
    state.received++;
    state.last = String(event.data);
  });
  socket.addEventListener("open", (event) => {
    state.opens++;
    if (event.resumed) state.resumedOpens++;
    opened();
  });
  return Promise.resolve({
    send: (from, to) => {
      for (let i = from; i <= to; i++) socket.send(`c${i}`);
      return Promise.resolve();
    },
    state: () => Promise.resolve({ ...state, readyState: socket.readyState, unconfirmed: socket.unconfirmed }),
    close: (code, reason) => Promise.resolve(socket.close(code, reason)),
    dispose: () => Promise.resolve(),
  });
};

/** Options of {@link runResumeChaos}. */
export interface ResumeChaosOptions {
  /** The test's timeout in ms (default 120 s). */
  timeout?: number;
  /** Where the client runs (default {@link nodeChaosClient}). */
  client?: ChaosClientFactory;
  /** More checks, of stream `id`: once every message is confirmed both ways, and once the session closed. */
  settled?: (id: string) => Promise<void>;
  closed?: (id: string) => Promise<void>;
}

/**
 * What several servers saw of one stream, added up: the counts of hooks, and the stream's progress where its
 * handler lives (the others report 0).
 */
function addUp(records: (StreamStats | null)[]): StreamStats {
  const seen = records.filter((record): record is StreamStats => record !== null);
  const sum = (key: "opened" | "closed" | "disconnects" | "resumes" | "pending") =>
    seen.reduce((total, record) => total + record[key], 0);
  return {
    opened: sum("opened"),
    closed: sum("closed"),
    disconnects: sum("disconnects"),
    resumes: sum("resumes"),
    pending: sum("pending"),
    closes: seen.flatMap((record) => record.closes),
    wrong: seen.flatMap((record) => record.wrong),
    received: Math.max(0, ...seen.map((record) => record.received)),
    sent: Math.max(0, ...seen.map((record) => record.sent)),
  };
}

/**
 * Registers the chaos test against the server `start()` gives (its `/stream/:id` and `/resume-stats/:id`), or the
 * servers: then the proxy sends each new connection to the next one.
 */
export function runResumeChaos(
  start: () => Promise<RunningServer | RunningServer[]>,
  { timeout = 120_000, client = nodeChaosClient, settled, closed }: ResumeChaosOptions = {},
): void {
  let servers: RunningServer[] = [];
  let proxy: ChaosProxy;
  beforeAll(async () => {
    servers = [await start()].flat();
    let connections = 0;
    proxy = await startChaosProxy(() => servers[connections++ % servers.length]!.port);
  }, 90_000);
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  test(
    `${MESSAGES} messages each way, ${CUTS} cuts at random bytes: all arrive once, in order; open and onClose run once`,
    async () => {
      const id = `chaos-${Math.random().toString(36).slice(2)}`;
      const stats = async (): Promise<StreamStats> =>
        addUp(
          await Promise.all(
            servers.map(async (server) => (await fetch(`${server.httpURL}/resume-stats/${id}`)).json()),
          ),
        );
      // The next cut falls somewhere in the next few KiB, wherever a frame boundary is.
      const opened = () => {
        if (proxy.cuts < CUTS) proxy.cutAfter(50 + Math.floor(Math.random() * 3000));
      };
      const socket = await client(
        `ws://127.0.0.1:${proxy.port}/stream/${id}?count=${MESSAGES}&lead=${LEAD}`,
        opened,
        proxy.port,
      );
      /** The client's progress; a reconnect that did not resume fails it, with what each side saw (not a stall). */
      const progress = async (): Promise<ChaosClientState> => {
        const seen = await socket.state();
        if (seen.resumedOpens < seen.opens - 1) {
          throw new Error(
            `a reconnect started a new session: client ${JSON.stringify(seen)}, servers ${
              JSON.stringify(await stats())
            }`,
          );
        }
        return seen;
      };
      try {
        // The client's stream: 50 messages every 5 ms, sent whatever the connection's state (kept until confirmed),
        // slowed down (100 ms at most) while the cuts lag behind it, so that they fall while both streams flow (the
        // server's stays at most LEAD messages ahead of the client's).
        for (let sent = 0; sent < MESSAGES; sent += 50) {
          await socket.send(sent + 1, sent + 50);
          for (let waited = 0; waited < 100 && proxy.cuts < (CUTS * sent) / MESSAGES; waited += 5) {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const streamCuts = proxy.cuts;
        // Cuts that did not happen during the streams (both done) happen now, while only acknowledgements flow.
        for (let round = 0; proxy.cuts < CUTS && round < 2 * CUTS; round++) {
          await expect.poll(async () => (await progress()).readyState, WAIT).toBe(EdgeSocket.OPEN);
          // A cut set at the last open may have fallen while waiting.
          if (proxy.cuts >= CUTS) break;
          proxy.cutNow();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await expect.poll(async () => (await progress()).received, WAIT).toBe(MESSAGES);
        await expect.poll(async () => (await stats()).received, WAIT).toBe(MESSAGES);
        await expect.poll(async () => (await socket.state()).readyState, WAIT).toBe(EdgeSocket.OPEN);
        await expect.poll(async () => (await stats()).pending, WAIT).toBe(0);
        await expect.poll(async () => (await socket.state()).unconfirmed, WAIT).toBe(0);

        const before = await stats();
        const seen = await socket.state();
        expect(proxy.cuts).toBe(CUTS);
        expect(streamCuts).toBeGreaterThanOrEqual(CUTS / 2); // most cuts fell while messages streamed
        expect(seen).toMatchObject({ outOfOrder: 0, last: `s${MESSAGES}` });
        expect(before).toMatchObject({ opened: 1, closed: 0, wrong: [], sent: MESSAGES, received: MESSAGES });
        expect(before.resumes).toBeGreaterThan(0);
        expect(seen.resumedOpens).toBe(seen.opens - 1); // every open after the first resumed the session
        await settled?.(id);

        await socket.close(1000, "done");
        await expect.poll(async () => (await stats()).closed, WAIT).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await stats()).toMatchObject({ opened: 1, closed: 1, closes: [{ code: 1000, reason: "done" }] });
        await closed?.(id);
      } finally {
        await socket.dispose();
      }
    },
    timeout,
  );
}
