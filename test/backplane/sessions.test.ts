/**
 * Resumable sessions shared through Redis (`redisSessions`): two Node processes serve the fixture
 * test/fixtures/resume-redis-app.ts with one redis-server; a TCP proxy in front of them (test/helpers/chaos-proxy.ts)
 * sends each new connection to the process the test chooses, and cuts connections. The chaos scenario with Redis:
 * test/conformance/resume-chaos-redis.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { redisBackplane, redisSessions } from "../../src/backplane/redis.ts";
import { Runtime } from "../../src/core/runtime.ts";
import { EdgeSocket, type EdgeSocketOptions, type WebSocketConstructor } from "../../src/client/index.ts";
import { SESSION_EXPIRED_REASON } from "../../src/core/session.ts";
import type { ProcessRecord } from "../fixtures/resume-redis-app.ts";
import { type ChaosProxy, startChaosProxy } from "../helpers/chaos-proxy.ts";
import { redisCli, type RunningRedis, startRedis } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/runtimes.ts";

const PREFIX = "es-test";
const WAIT = { timeout: 60_000, interval: 50 };
/** Longer than {@link WAIT}, so that a wait that fails reports which one it was before the test's own time runs out. */
const TEST_TIMEOUT = 90_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** On a failed test, prints the end of what each server printed and whether it exited: a dead or disconnected process. */
function reportServersOnFailure(servers: () => Record<string, RunningServer | undefined>): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(async () => {
      for (const [name, server] of Object.entries(servers())) {
        if (!server) continue;
        const exited = await Promise.race([server.exited, sleep(0).then(() => "running")]);
        console.error(`server ${name} (pid ${server.pid}, ${exited}):\n${server.output().slice(-4000)}`);
      }
    });
  });
}

/**
 * An EdgeSocket through `proxy` (added to `clients`), retrying fast, that records what it receives, its opens and its
 * closes; its URL waits for the gate `hold()` sets before each attempt.
 */
function connectThrough(
  proxy: ChaosProxy,
  clients: EdgeSocket[],
  path: string | (() => string),
  options: EdgeSocketOptions = {},
) {
  let gate: Promise<void> = Promise.resolve();
  const url = () => gate.then(() => `ws://127.0.0.1:${proxy.port}${typeof path === "string" ? path : path()}`);
  const socket = new EdgeSocket(url, undefined, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    minDelay: 5,
    maxDelay: 30,
    jitter: 0,
    // A session the server closes on purpose stays closed (the default would open a new one).
    shouldReconnect: ({ code }) => code !== 1000,
    ...options,
  });
  clients.push(socket);
  const received: string[] = [];
  const opens: { resumed: boolean }[] = [];
  const closes: number[] = [];
  /** How many messages had arrived at each close. */
  const receivedAtClose: number[] = [];
  socket.addEventListener("message", (event) => received.push(String(event.data)));
  socket.addEventListener("open", (event) => opens.push({ resumed: event.resumed }));
  socket.addEventListener("close", (event) => {
    closes.push(event.code);
    receivedAtClose.push(received.length);
  });
  return {
    socket,
    received,
    opens,
    closes,
    receivedAtClose,
    /** Holds every reconnection until the returned function is called. */
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((resolve) => open = resolve);
      return open;
    },
    /** The next message that starts with `prefix`, after those already received. */
    async next(prefix: string): Promise<string> {
      const from = received.length;
      let found: string | undefined;
      await expect.poll(() => found = received.slice(from).find((m) => m.startsWith(prefix)), WAIT).toBeDefined();
      return found!;
    },
  };
}

describe("redisSessions at setup", () => {
  test("takes only a Redis backplane of one server, and only the one its server relays through", () => {
    expect(() => redisSessions({ start() {}, publish() {}, close: async () => {} })).toThrow(TypeError);
    expect(() => redisSessions(redisBackplane({ cluster: ["redis://127.0.0.1:1"] }))).toThrow(/Redis Cluster/);
    // Neither backplane connects: a Runtime starts the backplane it gets, and these throw before that.
    const sessions = redisSessions(redisBackplane({ url: "redis://127.0.0.1:1" }));
    expect(() => new Runtime({ upgrade: () => new Response(null), sessions })).toThrow(
      /serve\(app, \{ backplane, sessions \}\)/,
    );
  });
});

describe("Redis sessions across two Node processes", { timeout: TEST_TIMEOUT }, () => {
  let redis: RunningRedis;
  let a: RunningServer, b: RunningServer;
  let proxy: ChaosProxy;
  /** Where the proxy sends the next connection: "a", "b", or each in turn. */
  let route: "a" | "b" | "alternate" = "a";
  let connections = 0;
  const clients: EdgeSocket[] = [];
  reportServersOnFailure(() => ({ a, b }));

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: PREFIX };
    [a, b] = await Promise.all([
      startServer("node", "dist/test/fixtures/resume-redis-node.js", { env }),
      startServer("node", "dist/test/fixtures/resume-redis-node.js", { env }),
    ]);
    proxy = await startChaosProxy(() => {
      const to = route === "alternate" ? (connections % 2 === 0 ? a : b) : route === "a" ? a : b;
      connections++;
      return to.port;
    });
  }, 90_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await proxy?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.remove();
  });

  /** What each process saw of session `id`: [a's, b's]. */
  const stats = (id: string) =>
    Promise.all([a, b].map(async (s) => (await fetch(`${s.httpURL}/stats/${id}`)).json() as Promise<ProcessRecord>));
  /** Both processes' records added up, and the live handler's view (where it lives). */
  const total = async (id: string) => {
    const both = (await stats(id)).map((record) =>
      record ?? { opened: 0, closed: 0, closes: [], disconnects: 0, resumes: 0, rebuilt: 0, wrong: [] }
    );
    const sum = (key: "opened" | "closed" | "resumes" | "rebuilt" | "disconnects") =>
      both.reduce((n, record) => n + record[key], 0);
    return {
      opened: sum("opened"),
      closed: sum("closed"),
      resumes: sum("resumes"),
      rebuilt: sum("rebuilt"),
      disconnects: sum("disconnects"),
      closes: both.flatMap((record) => record.closes),
      wrong: both.flatMap((record) => record.wrong),
      live: both.filter((record) => record.live).map((record) => record.live!),
      each: both,
    };
  };
  const sessionKeys = async () =>
    (await redisCli(redis.port, "--scan", "--pattern", `${PREFIX}:s:*`)).split("\n").filter(Boolean);
  const publishOn = (server: RunningServer, topic: string, tag: string, count = 1, every = 0) =>
    fetch(`${server.httpURL}/publish/${topic}?tag=${tag}&count=${count}&every=${every}`, { method: "POST" })
      .then((response) => response.text());

  const connect = (path: string | (() => string), options: EdgeSocketOptions = {}) =>
    connectThrough(proxy, clients, path, options);

  test(
    "publications from both processes while the client is away or moving arrive after the resume, once, in order",
    async () => {
      const COUNT = 2000;
      route = "alternate";
      const id = `pub-${Math.random().toString(36).slice(2)}`;
      const client = connect(`/room/${id}?topics=news`);
      await client.next("joined");
      // Both processes relay the topic to the session before the publications start.
      for (const [server, tag] of [[a, "probe-a"], [b, "probe-b"]] as const) {
        await expect.poll(async () => {
          await publishOn(server, "news", tag);
          await sleep(50);
          return client.received.includes(`${tag}:1`);
        }, WAIT).toBe(true);
      }
      const publishing = Promise.all([publishOn(a, "news", "A", COUNT, 1), publishOn(b, "news", "B", COUNT, 1)]);
      for (let cut = 0; cut < 8; cut++) {
        await expect.poll(() => client.socket.readyState, WAIT).toBe(EdgeSocket.OPEN);
        // Every other time the client stays away for a while: the publications wait in its session.
        const reopen = cut % 2 === 0 ? client.hold() : undefined;
        proxy.cutNow();
        await sleep(reopen ? 150 : 50);
        reopen?.();
      }
      await publishing;
      const of = (tag: string) => client.received.filter((m) => m.startsWith(`${tag}:`));
      const expected = (tag: string) => Array.from({ length: COUNT }, (_, i) => `${tag}:${i + 1}`);
      await expect.poll(() => of("A").length + of("B").length, WAIT).toBe(2 * COUNT);
      await sleep(200); // nothing more comes
      expect(of("A")).toEqual(expected("A"));
      expect(of("B")).toEqual(expected("B"));
      const seen = await total(id);
      expect(seen).toMatchObject({ opened: 1, closed: 0 });
      expect(seen.rebuilt).toBeGreaterThan(0);
      expect(client.opens.slice(1).every((open) => open.resumed)).toBe(true);
      client.socket.close();
      await expect.poll(async () => (await total(id)).closed, WAIT).toBe(1);
      expect(await sessionKeys()).toEqual([]);
    },
    120_000,
  );

  test("on the other process: a new handler with the state, params and topics; open once, onResume, no onClose", async () => {
    route = "a";
    const id = `move-${Math.random().toString(36).slice(2)}`;
    const client = connect(`/room/${id}?topics=t1`);
    await client.next("joined");
    client.socket.send("state=kept");
    client.socket.send("join=t2");
    client.socket.send("who?");
    expect(await client.next("who:")).toBe(
      `who:${JSON.stringify({ state: "kept", params: { id }, topics: ["t1", "t2"] })}`,
    );

    route = "b";
    proxy.cutNow();
    await expect.poll(() => client.opens.length, WAIT).toBeGreaterThanOrEqual(2);
    expect(client.opens).toHaveLength(2);
    expect(client.opens[1]).toEqual({ resumed: true });
    client.socket.send("who?");
    expect(await client.next("who:")).toBe(
      `who:${JSON.stringify({ state: "kept", params: { id }, topics: ["t1", "t2"] })}`,
    );
    const [onA, onB] = await stats(id);
    expect(onA).toMatchObject({ opened: 1, closed: 0, disconnects: 1, resumes: 0 });
    expect(onA!.live).toBeUndefined();
    expect(onB).toMatchObject({ opened: 0, closed: 0, rebuilt: 1, resumes: 1, live: { state: "kept" } });

    // Its topics follow it: what A publishes reaches it on B.
    // Watched from before the publication, which may arrive before its HTTP response.
    const fromA = client.next("from-a");
    await publishOn(a, "t2", "from-a");
    expect(await fromA).toBe("from-a:1");

    client.socket.send("close");
    await expect.poll(async () => (await stats(id))[1]?.closed, WAIT).toBe(1);
    expect((await stats(id))[1]!.closes).toEqual([{ code: 1000, reason: "bye" }]);
    expect((await stats(id))[0]!.closed).toBe(0);
    expect(await sessionKeys()).toEqual([]);
  });

  test("a hand-over waits for a running hook (onDisconnect) of the holder", async () => {
    route = "a";
    const id = `slow-${Math.random().toString(36).slice(2)}`;
    const client = connect(`/slow/${id}`);
    await client.next("joined");
    client.socket.send("state=slow");
    route = "b";
    proxy.cutNow();
    await expect.poll(() => client.opens.length, WAIT).toBeGreaterThanOrEqual(2);
    expect(client.opens).toHaveLength(2);
    expect(client.opens[1]).toEqual({ resumed: true });
    client.socket.send("who?");
    expect(await client.next("who:")).toContain(`"state":"slow"`);
    expect(await total(id)).toMatchObject({ opened: 1, closed: 0, disconnects: 1, rebuilt: 1 });
    client.socket.close();
    await expect.poll(async () => (await total(id)).closed, WAIT).toBe(1);
  });

  test("window over: onClose once, on the process that held it; the id is then unknown on the other", async () => {
    route = "a";
    const id = `short-${Math.random().toString(36).slice(2)}`;
    const client = connect(`/short/${id}`);
    await client.next("joined");
    const reopen = client.hold();
    proxy.cutNow();
    await expect.poll(async () => (await stats(id))[0]?.closed, WAIT).toBe(1);
    expect((await stats(id))[0]!.closes).toEqual([{ code: 1006, reason: SESSION_EXPIRED_REASON }]);
    expect(await sessionKeys()).toEqual([]);

    route = "b";
    reopen();
    await expect.poll(() => client.opens.length, WAIT).toBeGreaterThanOrEqual(2);
    expect(client.opens).toHaveLength(2);
    expect(client.opens[1]).toEqual({ resumed: false });
    await sleep(100);
    expect(await total(id)).toMatchObject({ opened: 2, closed: 1 });
    expect((await stats(id))[1]).toMatchObject({ opened: 1, rebuilt: 0 });
    client.socket.close();
    await expect.poll(async () => (await total(id)).closed, WAIT).toBe(2);
  });

  test("a session asked for on another route of the other process is not found: a new session there", async () => {
    route = "a";
    const id = `route-${Math.random().toString(36).slice(2)}`;
    let path = `/room/${id}`;
    const client = connect(() => path);
    await client.next("joined");
    client.socket.send("state=mine");
    client.socket.send("who?");
    await client.next("who:");
    route = "b";
    path = `/other/${id}`;
    proxy.cutNow();
    await expect.poll(() => client.opens.length, WAIT).toBeGreaterThanOrEqual(2);
    expect(client.opens).toHaveLength(2);
    expect(client.opens[1]).toEqual({ resumed: false });
    client.socket.send("who?");
    expect(await client.next("who:")).toBe(`who:${JSON.stringify({ params: { id }, topics: [] })}`);
    // The first session still waits, on A, for its own client.
    expect((await stats(id))[0]).toMatchObject({ opened: 1, closed: 0, disconnects: 1, live: { state: "mine" } });
    client.socket.close();
  });
});

describe("Redis sessions when a Node process shuts down", { timeout: TEST_TIMEOUT }, () => {
  let redis: RunningRedis;
  let stay: RunningServer;
  let proxy: ChaosProxy;
  /** Where the proxy sends the next connection. */
  let target: RunningServer;
  const clients: EdgeSocket[] = [];
  reportServersOnFailure(() => ({ stay }));

  beforeAll(async () => {
    redis = await startRedis();
    stay = await startServer("node", "dist/test/fixtures/resume-redis-node.js", { env: envOf() });
    target = stay;
    proxy = await startChaosProxy(() => target.port);
  }, 90_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await proxy?.close();
    await stay?.stop();
    await redis?.remove();
  });

  function envOf(shutdownTimeout = 10_000): Record<string, string> {
    // A hand-over that waits for its holder's answer waits all test long (a holder that died must not be waited for).
    return {
      REDIS_URL: redis.url,
      REDIS_PREFIX: PREFIX,
      SHUTDOWN_TIMEOUT: String(shutdownTimeout),
      TAKEOVER_TIMEOUT: "120000",
    };
  }
  /** A process that will shut down: its records, printed as it exits. */
  async function leaving(shutdownTimeout?: number) {
    const server = await startServer("node", "dist/test/fixtures/resume-redis-node.js", {
      env: envOf(shutdownTimeout),
    });
    return {
      server,
      /** SIGTERM; resolves with what it saw of each session once it has exited (with 0). */
      async shutDown(): Promise<Record<string, ProcessRecord>> {
        server.signal("SIGTERM");
        expect(await server.exited).toBe(0);
        const line = server.output().split("\n").find((text) => text.startsWith("records "));
        return JSON.parse(line!.slice("records ".length));
      },
    };
  }
  const stats = async (id: string): Promise<ProcessRecord> => (await fetch(`${stay.httpURL}/stats/${id}`)).json();
  const connect = (path: string) => connectThrough(proxy, clients, path);
  /** A process that will shut down, and a client in session `<name>-…` on it. */
  async function sessionOnLeaver(name: string, shutdownTimeout?: number) {
    const leaver = await leaving(shutdownTimeout);
    target = leaver.server;
    const id = `${name}-${Math.random().toString(36).slice(2)}`;
    const client = connect(`/room/${id}`);
    await client.next("joined");
    return { leaver, id, client };
  }
  /** The client, back on the process that stays, got a new session there (not the old one rebuilt); closes it. */
  async function newSessionOnStay(client: ReturnType<typeof connect>, id: string) {
    await expect.poll(() => client.opens.length, WAIT).toBeGreaterThanOrEqual(2);
    expect(client.opens).toHaveLength(2);
    expect(client.opens).toEqual([{ resumed: false }, { resumed: false }]);
    expect(await stats(id)).toMatchObject({ opened: 1, rebuilt: 0 });
    client.socket.close();
    await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
  }

  test(
    "SIGTERM: each session's socket gets 1012 and the session moves to the process its client comes back to, with what was published meanwhile, once, in order; no onClose where it was",
    async () => {
      const COUNT = 300;
      const leaver = await leaving();
      target = leaver.server;
      const id = `leave-${Math.random().toString(36).slice(2)}`;
      const client = connect(`/room/${id}?topics=news`);
      await client.next("joined");
      client.socket.send("state=kept");
      client.socket.send("who?");
      await client.next("who:");
      // Published by the process that stays, through the move.
      const publishing = fetch(`${stay.httpURL}/publish/news?tag=P&count=${COUNT}&every=2`, { method: "POST" });
      await expect.poll(() => client.received.filter((m) => m.startsWith("P:")).length, WAIT).toBeGreaterThan(20);
      target = stay;
      const records = await leaver.shutDown();
      await publishing;

      await expect.poll(() => client.received.filter((m) => m.startsWith("P:")).length, WAIT).toBe(COUNT);
      expect(client.received.filter((m) => m.startsWith("P:"))).toEqual(
        Array.from({ length: COUNT }, (_, i) => `P:${i + 1}`),
      );
      // The move fell while they were published: "joined" and "who:" came before them.
      expect(client.receivedAtClose[0]).toBeLessThan(COUNT + 2);
      expect(client.closes[0]).toBe(1012);
      expect(client.opens).toEqual([{ resumed: false }, { resumed: true }]);
      client.socket.send("who?");
      expect(await client.next("who:")).toBe(
        `who:${JSON.stringify({ state: "kept", params: { id }, topics: ["news"] })}`,
      );
      expect(records[id]).toMatchObject({ opened: 1, closed: 0, disconnects: 1 });
      expect(await stats(id)).toMatchObject({ opened: 0, rebuilt: 1, resumes: 1, closed: 0 });

      client.socket.send("close");
      await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
      expect((await stats(id)).closes).toEqual([{ code: 1000, reason: "bye" }]);
      expect(
        (await redisCli(redis.port, "--scan", "--pattern", `${PREFIX}:s:*`)).split("\n").filter(Boolean),
      ).toEqual([]);
    },
    120_000,
  );

  test("a session whose client does not come back within the shutdown's timeout ends there: onClose(1001) once; the client then gets a new session", async () => {
    const { leaver, id, client } = await sessionOnLeaver("gone", 500);
    const reopen = client.hold();
    const records = await leaver.shutDown();
    expect(records[id]).toMatchObject({
      opened: 1,
      closed: 1,
      disconnects: 1,
      closes: [{ code: 1001, reason: "server shutting down" }],
    });
    expect(client.closes).toEqual([1012]);

    target = stay;
    reopen();
    await newSessionOnStay(client, id);
  });

  test(
    "a session whose saved record was lost (its keys deleted) is not kept for a hand-over: SIGTERM ends it there at once, onClose(1001) once",
    async () => {
      // Kept for a hand-over, it would hold the shutdown past this test's time.
      const { leaver, id, client } = await sessionOnLeaver("lost", 2 * TEST_TIMEOUT);
      const keys = (await redisCli(redis.port, "--scan", "--pattern", `${PREFIX}:s:*`)).split("\n").filter(Boolean);
      expect(keys.length).toBeGreaterThan(0);
      await redisCli(redis.port, "DEL", ...keys);
      client.socket.send("state=lost"); // the journal's next write finds the keys gone
      const leaverStats = async () => (await fetch(`${leaver.server.httpURL}/stats/${id}`)).json();
      await expect.poll(async () => (await leaverStats()).live?.movable, WAIT).toBe(false);
      const reopen = client.hold();
      const records = await leaver.shutDown();
      expect(records[id]).toMatchObject({
        opened: 1,
        closed: 1,
        disconnects: 0,
        closes: [{ code: 1001, reason: "server shutting down" }],
      });
      expect(client.closes).toEqual([1001]);

      target = stay;
      reopen();
      await newSessionOnStay(client, id);
    },
    TEST_TIMEOUT,
  );

  test("a holder that died (SIGKILL) is not waited for: its client gets a new session at once", async () => {
    const { leaver, id, client } = await sessionOnLeaver("died");
    target = stay;
    leaver.server.signal("SIGKILL");
    // Without the check, the hand-over would wait TAKEOVER_TIMEOUT (2 minutes) for an answer: past this test's time.
    await newSessionOnStay(client, id);
  }, TEST_TIMEOUT);
});
