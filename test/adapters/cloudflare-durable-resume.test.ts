/**
 * Resumable sessions in a Durable Object on real workerd (test/fixtures/resume-worker.ts): a detached session lives
 * in the object's storage, so that it survives the object's eviction (the client then resumes with every message
 * once, on a handler rebuilt from the storage), and its window ends with the object's alarm (onClose once), even
 * when the object was evicted meanwhile. workerd evicts an object idle for 10 s; the tests look every 11 s.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { EdgeSocket, type WebSocketConstructor } from "../../src/client/index.ts";
import { SESSION_EXPIRED_REASON } from "../../src/index.ts";
import { type ChaosProxy, startChaosProxy } from "../helpers/chaos-proxy.ts";
import { type Client, openClient } from "../helpers/client.ts";
import { type RunningServer, startServer } from "../helpers/runtimes.ts";
import { type WranglerConfig, writeWranglerConfig } from "../helpers/wrangler.ts";

/** What `/do/:name/sessions` reports of each session. */
interface SessionView {
  phase: string;
  pending: number;
  sent: number;
  received: number;
  topics: string[];
  state: { opens: number; disconnects: number; resumes: number; received: number; wrong: string[] };
  instance: string;
}

const WAIT = { timeout: 15_000, interval: 50 };

describe("resumable sessions in a Durable Object on workerd", () => {
  let config: WranglerConfig;
  let server: RunningServer;
  let proxy: ChaosProxy;
  const sockets: EdgeSocket[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    config = writeWranglerConfig("resume-durable", { RESUME: "ResumeObject" });
    server = await startServer("workerd", "test/fixtures/resume-worker.ts", { wranglerConfig: config.file });
    proxy = await startChaosProxy(server.port);
  }, 90_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const client of clients) client.ws.terminate();
    await proxy?.close();
    await server?.stop();
    config?.remove();
  });

  const get = async <T>(name: string, path: string): Promise<T> =>
    (await fetch(`${server.httpURL}/do/${name}/${path}`)).json() as Promise<T>;
  const sessions = (name: string) => get<SessionView[]>(name, "sessions");
  const stored = (name: string) => get<string[]>(name, "storage");
  const publish = (name: string, data: string) =>
    fetch(`${server.httpURL}/do/${name}/publish/room`, { method: "POST", body: data }).then((res) => res.text());

  /** Waits until object `name` was evicted: its instance id changes. A look wakes it, so look after 11 s of quiet. */
  async function evicted(name: string): Promise<string> {
    const before = await get<string>(name, "instance");
    for (let look = 0; look < 5; look++) {
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      const now = await get<string>(name, "instance");
      if (now !== before) return now;
    }
    throw new Error(`object ${name} was not evicted within 55 s`);
  }

  /** An EdgeSocket through the proxy that does not reconnect by itself: the test calls `reconnect()`. */
  function connect(name: string, route: string) {
    const received: string[] = [];
    const opens: boolean[] = [];
    const socket = new EdgeSocket(`ws://127.0.0.1:${proxy.port}/do/${name}/${route}`, undefined, {
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      shouldReconnect: () => false,
    });
    sockets.push(socket);
    socket.addEventListener("message", (event) => received.push(String(event.data)));
    socket.addEventListener("open", (event) => opens.push(event.resumed));
    return { socket, received, opens };
  }

  test('the object answers no text by itself: a session\'s "ping" reaches its handler like any message', async () => {
    const received: string[] = [];
    const socket = new EdgeSocket(`${server.wsURL}/echo`, undefined, {
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    sockets.push(socket);
    socket.addEventListener("message", (event) => received.push(String(event.data)));
    for (const text of ["a", "ping", "b"]) socket.send(text);
    await expect.poll(() => received, WAIT).toEqual(["a", "ping", "b"]);
    await expect.poll(() => socket.unconfirmed, WAIT).toBe(0);
    expect(socket.readyState).toBe(EdgeSocket.OPEN);
    socket.close();
  });

  test(
    "hibernates while a session's socket stays open: the socket carries it on, and a cut while hibernated detaches it",
    async () => {
      const name = `hibernate-${Math.random().toString(36).slice(2)}`;
      const { socket, received, opens } = connect(name, "member");
      await expect.poll(() => opens, WAIT).toEqual([false]);
      socket.send("c1");
      socket.send("mood:sleepy"); // `state` mutated in place: saved after the message
      await publish(name, "p1");
      await expect.poll(() => received, WAIT).toEqual(["p1"]);
      await expect.poll(async () => (await sessions(name))[0]?.pending, WAIT).toBe(0);
      const [before] = await sessions(name);

      await evicted(name);
      const [woken] = await sessions(name);
      expect(woken).toMatchObject({ phase: "attached", sent: 1, received: 2, pending: 0, topics: ["room"] });
      expect(woken!.state).toMatchObject({ received: 1, mood: "sleepy" });
      expect(woken!.instance).not.toBe(before!.instance);
      socket.send("c2");
      await publish(name, "p2");
      await expect.poll(() => received, WAIT).toEqual(["p1", "p2"]);
      await expect.poll(async () => (await sessions(name))[0]?.state.received, WAIT).toBe(2);

      // Quiet for 12 s (no look: the object hibernates), then the cut is the event that wakes it.
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      proxy.cutNow();
      await expect.poll(async () => (await sessions(name))[0]?.phase, WAIT).toBe("detached");
      const [cut] = await sessions(name);
      expect(cut!.instance).not.toBe(woken!.instance); // the close reached a handler rebuilt once more
      expect(cut!.state).toMatchObject({ disconnects: 1, received: 2 });
      await publish(name, "p3");
      socket.reconnect();
      await expect.poll(() => received, WAIT).toEqual(["p1", "p2", "p3"]);
      expect(opens).toEqual([false, true]);
      socket.send("c3");
      await expect.poll(async () => (await sessions(name))[0]?.state, WAIT)
        .toEqual({ opens: 1, disconnects: 1, resumes: 1, received: 3, wrong: [], mood: "sleepy" });
      socket.close(1000, "done");
      await expect.poll(() => sessions(name), WAIT).toEqual([]);
    },
    150_000,
  );

  test(
    "evicted while a session is detached: the client resumes with every message once, on a rebuilt handler",
    async () => {
      const name = `evict-${Math.random().toString(36).slice(2)}`;
      const { socket, received, opens } = connect(name, "member");
      await expect.poll(() => opens, WAIT).toEqual([false]);
      for (let i = 1; i <= 3; i++) socket.send(`c${i}`);
      await expect.poll(async () => (await sessions(name))[0]?.state.received, WAIT).toBe(3);
      const [first] = await sessions(name);

      // Two more in flight as the connection is cut: the server may have them or not; the client keeps them.
      socket.send("c4");
      socket.send("c5");
      proxy.cutNow();
      await expect.poll(() => socket.readyState, WAIT).toBe(EdgeSocket.CLOSED);
      // workerd reports the cut as 1006: the session is detached, not ended.
      await expect.poll(async () => (await sessions(name))[0]?.phase, WAIT).toBe("detached");

      for (let i = 1; i <= 3; i++) expect(await publish(name, `p${i}`)).toBe("published");
      await evicted(name);
      const [afterEviction] = await sessions(name);
      expect(afterEviction).toMatchObject({ phase: "detached", pending: 3, sent: 3, topics: ["room"] });
      expect(afterEviction!.instance).not.toBe(first!.instance); // a new handler, from the storage
      expect(afterEviction!.state).toMatchObject({ opens: 1, disconnects: 1, resumes: 0, wrong: [] });

      // Published to the rebuilt session, then evicted again: these too live in the storage only.
      for (let i = 4; i <= 6; i++) expect(await publish(name, `p${i}`)).toBe("published");
      await evicted(name);
      expect(await sessions(name)).toMatchObject([{ phase: "detached", pending: 6, sent: 6 }]);

      socket.reconnect();
      await expect.poll(() => opens, WAIT).toEqual([false, true]);
      await expect.poll(() => received.length, WAIT).toBe(6);
      expect(received).toEqual(["p1", "p2", "p3", "p4", "p5", "p6"]);
      await expect.poll(async () => (await sessions(name))[0]?.state.received, WAIT).toBe(5);
      await expect.poll(async () => (await sessions(name))[0]?.pending, WAIT).toBe(0);
      await expect.poll(() => socket.unconfirmed, WAIT).toBe(0);
      const [resumed] = await sessions(name);
      expect(resumed).toMatchObject({ phase: "attached", sent: 6, received: 5, topics: ["room"] });
      expect(resumed!.state).toEqual({ opens: 1, disconnects: 1, resumes: 1, received: 5, wrong: [] });

      // Live again: a publication arrives at once, and a close ends the session and empties the storage.
      await publish(name, "p7");
      await expect.poll(() => received.at(-1), WAIT).toBe("p7");
      socket.close(1000, "done");
      await expect.poll(() => sessions(name), WAIT).toEqual([]);
      expect(await stored(name)).toEqual([]);
    },
    150_000,
  );

  test("the window passes while the object is evicted: the alarm ends the session, onClose runs once", async () => {
    const name = `window-${Math.random().toString(36).slice(2)}`;
    const observer = await openClient(`${server.wsURL}/do/${name}/observer`);
    clients.push(observer);
    const { socket, opens } = connect(name, "brief"); // a window of 25 s
    await expect.poll(() => opens, WAIT).toEqual([false]);
    const [before] = await sessions(name);
    proxy.cutNow();
    await expect.poll(async () => (await sessions(name))[0]?.phase, WAIT).toBe("detached");
    const windowEnds = Date.now() + 25_000;

    await evicted(name);
    expect(Date.now()).toBeLessThan(windowEnds); // evicted while the window still ran
    await expect.poll(() => observer.messages.length, { timeout: 40_000, interval: 100 }).toBe(1);
    const closed = JSON.parse(String(observer.messages[0]));
    expect(closed).toMatchObject({ code: 1006, reason: SESSION_EXPIRED_REASON });
    expect(closed.state).toMatchObject({ opens: 1, disconnects: 1, resumes: 0 });
    expect(closed.closed).not.toBe(before!.instance); // onClose ran on a handler rebuilt from the storage
    expect(await sessions(name)).toEqual([]);
    expect(await stored(name)).toEqual([]);

    // The client comes back too late: told it did not resume, it gets a new session.
    socket.reconnect();
    await expect.poll(() => opens, WAIT).toEqual([false, false]);
    expect(await sessions(name)).toMatchObject([{ phase: "attached", sent: 0, state: { opens: 1, disconnects: 0 } }]);
    socket.close(1000, "done");
    await expect.poll(() => observer.messages.length, WAIT).toBe(2);
    expect(observer.messages.map((m) => JSON.parse(String(m)).code)).toEqual([1006, 1000]); // each onClose once
  }, 150_000);
});
