/**
 * The refusals of resume (issue 13, "a test per refusal"), on a real runtime serving test/fixtures/resume-app.ts:
 * an expired window, an unknown and a foreign session id, a full replay buffer; each gives its documented signal
 * and a fresh session, with nothing replayed twice. Also: a resume within the window (state kept, publications
 * made meanwhile delivered), a peer dropped by the runtime's heartbeat, a server restart; a plain `WebSocket` and
 * `EdgeSocket`'s `resume: false` on a resume route are ordinary connections; session ids are 144 random bits that
 * the server never prints.
 * Shared by the runtimes' test files; the raw tests speak the wire protocol (src/protocol/resume.ts) over `ws`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { EdgeSocket, type EdgeSocketOpenEvent, type WebSocketConstructor } from "../../src/client/index.ts";
import { NOT_FOUND_REASON, REPLAY_FULL_REASON, SESSION_EXPIRED_REASON } from "../../src/core/session.ts";
import { RESUME_PROTOCOL } from "../../src/protocol/resume.ts";
import { type ChaosProxy, startChaosProxy } from "../helpers/chaos-proxy.ts";
import { type Client, openClient } from "../helpers/client.ts";
import type { RunningServer, StartOptions } from "../helpers/runtimes.ts";
import type { StreamStats } from "./resume-chaos.ts";

const WAIT = { timeout: 15_000, interval: 20 };
/** A session id: 24 base64url characters (144 bits). */
const SESSION_ID = /^[A-Za-z0-9_-]{24}$/;

/** What `/resume-stats/:id` reports for an echo route. */
type EchoStats = StreamStats & { log: string[] };

/** A welcome frame, read. */
interface Welcome {
  received: number;
  resumed: boolean;
  id: string;
  reason: string;
}

/** Reads `"\0w<received> <1|0> <session> <reason>"`. */
function readWelcome(frame: unknown): Welcome {
  const match = /^\0w(\d+) ([01]) (\S+) ?(.*)$/s.exec(String(frame));
  if (!match) throw new Error(`not a welcome: ${JSON.stringify(frame)}`);
  return { received: Number(match[1]), resumed: match[2] === "1", id: match[3]!, reason: match[4]! };
}

/** A random id the server never gave: as long as a real one. */
function unknownId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
}

/** An `EdgeSocket` over `ws` that records its events. */
function edgeSocket(url: string | (() => Promise<string>), options: { resume?: boolean } = {}) {
  const opens: EdgeSocketOpenEvent[] = [];
  const closes: { code: number; reason: string; willRetry: boolean }[] = [];
  const messages: unknown[] = [];
  const socket = new EdgeSocket(url, undefined, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    minDelay: 10,
    maxDelay: 50,
    jitter: 0,
    ...options,
  });
  socket.addEventListener("open", (event) => opens.push(event));
  socket.addEventListener("close", (event) => closes.push(event));
  socket.addEventListener("message", (event) => messages.push(event.data));
  return { socket, opens, closes, messages };
}

/** Registers the refusal tests against the server `start()` gives (with `options`: on a given port). */
export function runResumeRefusals(start: (options?: StartOptions) => Promise<RunningServer>): void {
  describe("resume refusals", () => {
    let server: RunningServer;
    let proxy: ChaosProxy;
    /** Every session id a test saw: none may appear in the server's output. */
    const seenIds: string[] = [];
    const clients: Client[] = [];
    const sockets: EdgeSocket[] = [];

    beforeAll(async () => {
      server = await start();
      proxy = await startChaosProxy(server.port);
    }, 90_000);
    afterAll(async () => {
      for (const socket of sockets) socket.close();
      for (const client of clients) client.ws.terminate();
      await proxy?.close();
      await server?.stop();
    });

    const stats = async (id: string): Promise<EchoStats> =>
      (await fetch(`${server.httpURL}/resume-stats/${id}`)).json();
    const newId = () => `r-${Math.random().toString(36).slice(2)}`;

    /** A raw client of the resume protocol on `path` that sent `hello`; resolves with its welcome. */
    async function rawSession(path: string, hello: string): Promise<{ client: Client; welcome: Welcome }> {
      const client = await openClient(`${server.wsURL}${path}`, [RESUME_PROTOCOL]);
      clients.push(client);
      expect(client.ws.protocol).toBe(RESUME_PROTOCOL);
      client.ws.send(hello);
      const welcome = readWelcome(await client.message(1));
      seenIds.push(welcome.id);
      return { client, welcome };
    }

    test("within the window: the same session, its state kept, nothing replayed twice", async () => {
      const id = newId();
      const { socket, opens, messages } = edgeSocket(`ws://127.0.0.1:${proxy.port}/echo?id=${id}`);
      sockets.push(socket);
      await expect.poll(() => opens.length, WAIT).toBe(1);
      socket.send("state=kept");
      socket.send("one");
      await expect.poll(() => messages, WAIT).toEqual(["one"]);
      await expect.poll(() => socket.unconfirmed, WAIT).toBe(0);

      proxy.cutNow();
      await expect.poll(() => opens.length, WAIT).toBe(2);
      expect(opens[1]).toMatchObject({ resumed: true, unconfirmed: [] });
      socket.send("state?");
      await expect.poll(() => messages, WAIT).toEqual(["one", "state:kept"]);
      expect(await stats(id)).toMatchObject({
        opened: 1,
        closed: 0,
        disconnects: 1,
        resumes: 1,
        log: ["state=kept", "one", "state?"],
      });
      socket.close();
      await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
    });

    test("what is published while the client is away arrives on resume, once, in order; plain subscribers get it too", async () => {
      const id = newId();
      const topic = `news-${id}`;
      const gate: { away?: Promise<void> } = {};
      const url = `ws://127.0.0.1:${proxy.port}/echo?id=${id}`;
      const { socket, opens, messages } = edgeSocket(async () => (await gate.away, url));
      sockets.push(socket);
      await expect.poll(() => opens.length, WAIT).toBe(1);
      socket.send(`join:${topic}`);
      // A plain subscriber (on Bun, in the runtime's own topics) and a publisher.
      const plain = await openClient(`${server.wsURL}/echo`);
      const publisher = await openClient(`${server.wsURL}/echo`);
      clients.push(plain, publisher);
      plain.ws.send(`join:${topic}`);
      await expect.poll(async () => (await stats(id)).log, WAIT).toEqual([`join:${topic}`]);

      let comeBack!: () => void;
      gate.away = new Promise((resolve) => (comeBack = resolve));
      proxy.cutNow();
      await expect.poll(async () => (await stats(id)).disconnects, WAIT).toBe(1);
      for (const text of ["p1", "\0p2", "p3"]) publisher.ws.send(`pub:${topic}:${text}`);
      expect(await publisher.message(3)).toBe("published");
      expect(await plain.message(3)).toBe("p3");
      expect(plain.messages).toEqual(["p1", "\0p2", "p3"]);
      expect(messages).toEqual([]);

      comeBack();
      await expect.poll(() => opens.length, WAIT).toBe(2);
      expect(opens[1]!.resumed).toBe(true);
      await expect.poll(() => messages, WAIT).toEqual(["p1", "\0p2", "p3"]);
      publisher.ws.send(`pub:${topic}:p4`);
      await expect.poll(() => messages, WAIT).toEqual(["p1", "\0p2", "p3", "p4"]);
      expect(await stats(id)).toMatchObject({ opened: 1, closed: 0, resumes: 1 });
    });

    test("expired window (1 s): the session ends with SESSION_EXPIRED_REASON; the client's next open is a new session", async () => {
      const id = newId();
      const url = `ws://127.0.0.1:${proxy.port}/echo-short?id=${id}`;
      let cutAt = 0;
      let expiredAt = 0;
      // The client comes back only once the server has ended the session (not on a timer that might beat it).
      const { socket, opens, closes, messages } = edgeSocket(async () => {
        if (cutAt > 0) {
          await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
          expiredAt = Date.now();
        }
        return url;
      });
      sockets.push(socket);
      await expect.poll(() => opens.length, WAIT).toBe(1);
      expect(opens[0]).toMatchObject({ resumed: false, unconfirmed: [] });
      socket.send("state=lost");
      socket.send("one");
      await expect.poll(() => messages, WAIT).toEqual(["one"]);
      await expect.poll(() => socket.unconfirmed, WAIT).toBe(0);

      cutAt = Date.now();
      proxy.cutNow();
      await expect.poll(() => opens.length, WAIT).toBe(2);
      expect(closes[0]).toMatchObject({ code: 1006, willRetry: true });
      expect(opens[1]).toMatchObject({ resumed: false, unconfirmed: [] });
      expect(expiredAt - cutAt).toBeGreaterThanOrEqual(950); // the window, not sooner
      expect(await stats(id)).toMatchObject({
        opened: 2,
        closed: 1,
        closes: [{ code: 1006, reason: SESSION_EXPIRED_REASON }],
        disconnects: 1,
        resumes: 0,
      });
      // A new handler: the old one's state is gone, and nothing of the old session comes again.
      socket.send("state?");
      await expect.poll(() => messages, WAIT).toEqual(["one", "state:undefined"]);
      expect((await stats(id)).log).toEqual(["state=lost", "one", "state?"]);
    });

    test("unknown session id: welcome resumed 0 with NOT_FOUND_REASON and a new id; a new session opens", async () => {
      const id = newId();
      const asked = unknownId();
      const { client, welcome } = await rawSession(`/echo?id=${id}`, `\0h0 ${asked}`);
      expect(welcome).toEqual({
        received: 0,
        resumed: false,
        id: expect.stringMatching(SESSION_ID),
        reason: NOT_FOUND_REASON,
      });
      expect(welcome.id).not.toBe(asked);
      client.ws.send("hi");
      expect(await client.message(2)).toBe("hi");
      expect(await stats(id)).toMatchObject({ opened: 1, closed: 0, log: ["hi"] });
    });

    test("foreign session id (a live session of another route): refused as unknown, and the other session goes on", async () => {
      const otherId = newId();
      const other = await rawSession(`/other?id=${otherId}`, "\0h0 ");
      expect(other.welcome).toEqual({ received: 0, resumed: false, id: expect.stringMatching(SESSION_ID), reason: "" });

      const id = newId();
      const { client, welcome } = await rawSession(`/echo?id=${id}`, `\0h0 ${other.welcome.id}`);
      expect(welcome).toMatchObject({ resumed: false, reason: NOT_FOUND_REASON });
      expect(welcome.id).not.toBe(other.welcome.id);
      client.ws.send("mine");
      expect(await client.message(2)).toBe("mine");
      other.client.ws.send("still here");
      expect(await other.client.message(2)).toBe("still here");
      expect(await stats(id)).toMatchObject({ opened: 1, log: ["mine"] });
      expect(await stats(otherId)).toMatchObject({ opened: 1, closed: 0, disconnects: 0, log: ["still here"] });
    });

    test("replay buffer full (maxMessages 5, a client that never acknowledges): close 1013 REPLAY_FULL_REASON", async () => {
      const id = newId();
      const { client } = await rawSession(`/echo-small?id=${id}`, "\0h0 ");
      for (let i = 1; i <= 6; i++) client.ws.send(`m${i}`);
      // The sixth echo would make six unconfirmed: the session ends instead of sending it.
      expect(await client.closed).toEqual({ code: 1013, reason: REPLAY_FULL_REASON });
      expect(client.messages.slice(1)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
      await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
      expect(await stats(id)).toMatchObject({
        opened: 1,
        closes: [{ code: 1013, reason: REPLAY_FULL_REASON }],
        log: ["m1", "m2", "m3", "m4", "m5", "m6"],
      });
    });

    test("replay buffer full with EdgeSocket: it retries and gets a fresh session; nothing is replayed twice", async () => {
      const id = newId();
      const { socket, opens, closes, messages } = edgeSocket(`${server.wsURL}/echo-small?id=${id}`);
      sockets.push(socket);
      await expect.poll(() => opens.length, WAIT).toBe(1);
      const sent = ["m1", "m2", "m3", "m4", "m5", "m6"];
      for (const message of sent) socket.send(message);
      await expect.poll(() => opens.length, WAIT).toBe(2);
      expect(closes[0]).toMatchObject({ code: 1013, reason: REPLAY_FULL_REASON, willRetry: true });
      expect(opens[1]!.resumed).toBe(false);
      // What the old session never confirmed is handed back, not sent again: its tail, in order.
      expect(sent.slice(sent.length - opens[1]!.unconfirmed.length)).toEqual(opens[1]!.unconfirmed);
      expect(socket.unconfirmed).toBe(0);
      socket.send("after");
      await expect.poll(() => messages, WAIT).toEqual(["m1", "m2", "m3", "m4", "m5", "after"]);
      expect(await stats(id)).toMatchObject({
        opened: 2,
        closed: 1,
        closes: [{ code: 1013, reason: REPLAY_FULL_REASON }],
        log: [...sent, "after"],
      });
    });

    test("a peer that answers no pings is dropped by the runtime (idleTimeout 1 s): the session waits for it, and resumes", async () => {
      const id = newId();
      const deaf = await openClient(`${server.wsURL}/echo-idle?id=${id}`, [RESUME_PROTOCOL], { autoPong: false });
      clients.push(deaf);
      deaf.ws.send("\0h0 ");
      const { id: sessionId } = readWelcome(await deaf.message(1));
      seenIds.push(sessionId);
      deaf.ws.send("before");
      expect(await deaf.message(2)).toBe("before");
      deaf.ws.send("\0a1");
      // Not heard from (no message, no pong) within idleTimeout: dropped, whatever close the runtime reports.
      await deaf.closed;
      await expect.poll(async () => (await stats(id)).disconnects, WAIT).toBe(1);
      expect(await stats(id)).toMatchObject({ opened: 1, closed: 0 });

      const back = await rawSession(`/echo-idle?id=${id}`, `\0h1 ${sessionId}`);
      expect(back.welcome).toEqual({ received: 1, resumed: true, id: sessionId, reason: "" });
      back.client.ws.send("after");
      expect(await back.client.message(2)).toBe("after");
      expect(await stats(id)).toMatchObject({ opened: 1, closed: 0, resumes: 1, log: ["before", "after"] });
      back.client.ws.close(1000);
      await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
    });

    test("a plain WebSocket (no subprotocol) on a resume route is an ordinary connection", async () => {
      const id = newId();
      const client = await openClient(`${server.wsURL}/echo?id=${id}`);
      clients.push(client);
      expect(client.ws.protocol).toBe("");
      // No welcome, no escaping: a text starting with U+0000 is the user's own.
      client.ws.send("\0h0 looks like a hello");
      expect(await client.message(1)).toBe("\0h0 looks like a hello");
      client.ws.send("two");
      expect(await client.message(2)).toBe("two");
      // A drop ends it at once: no session waits for it.
      client.ws.terminate();
      await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
      expect(await stats(id)).toMatchObject({ opened: 1, disconnects: 0, log: ["\0h0 looks like a hello", "two"] });
    });

    test("EdgeSocket with resume: false is an ordinary connection: a drop ends the handler, the next open is new", async () => {
      const id = newId();
      const { socket, opens, messages } = edgeSocket(`ws://127.0.0.1:${proxy.port}/echo?id=${id}`, { resume: false });
      sockets.push(socket);
      await expect.poll(() => opens.length, WAIT).toBe(1);
      expect(socket.protocol).toBe("");
      socket.send("\0raw");
      await expect.poll(() => messages, WAIT).toEqual(["\0raw"]);
      expect(socket.unconfirmed).toBe(0);
      proxy.cutNow();
      await expect.poll(() => opens.length, WAIT).toBe(2);
      expect(opens.map((event) => event.resumed)).toEqual([false, false]);
      await expect.poll(async () => (await stats(id)).closed, WAIT).toBe(1);
      expect(await stats(id)).toMatchObject({ opened: 2, disconnects: 0, closes: [{ code: 1006 }] });
    });

    test("the server restarted (sessions in memory): the next open is a new session; the unconfirmed are handed back, not sent", async () => {
      let restarted = await start();
      const id = newId();
      try {
        const { socket, opens, messages } = edgeSocket(`${restarted.wsURL}/echo?id=${id}`);
        sockets.push(socket);
        await expect.poll(() => opens.length, WAIT).toBe(1);
        socket.send("a");
        await expect.poll(() => socket.unconfirmed, WAIT).toBe(0);
        socket.send("b");
        await restarted.stop();
        restarted = await start({ port: restarted.port });
        await expect.poll(() => opens.length, WAIT).toBe(2);
        expect(opens[1]!.resumed).toBe(false);
        // "b" may or may not have been confirmed before the kill: if not, it is handed back.
        expect(["[]", '["b"]']).toContain(JSON.stringify(opens[1]!.unconfirmed));
        expect(socket.unconfirmed).toBe(0);
        socket.send("c");
        await expect.poll(() => messages.at(-1), WAIT).toBe("c");
        expect(messages.filter((message) => message === "a")).toHaveLength(1);
        // The new process's session got nothing of the old one.
        expect(await (await fetch(`${restarted.httpURL}/resume-stats/${id}`)).json()).toMatchObject({
          opened: 1,
          log: ["c"],
        });
      } finally {
        await restarted.stop();
      }
    });

    test("session ids: 24 base64url characters (144 bits), all different", async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const { client, welcome } = await rawSession("/echo", "\0h0 ");
        expect(welcome.id).toMatch(SESSION_ID);
        ids.add(welcome.id);
        client.ws.close(1000);
      }
      expect(ids.size).toBe(20);
    });

    test("no session id appears in the server's output", () => {
      expect(seenIds.length).toBeGreaterThan(20);
      const output = server.output();
      for (const id of seenIds) expect(output).not.toContain(id);
    });
  });
}
