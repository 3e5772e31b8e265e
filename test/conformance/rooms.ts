/**
 * Rooms and pub/sub, the same on every runtime: each `<runtime>.test.ts` calls `runRooms(name)`,
 * which serves `test/fixtures/app.ts` (route `/rooms`) on that real runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Client, openClient, pollJSON } from "../helpers/client.ts";
import { entryOf, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";

let nextTopic = 0;

/** The error a plain Worker's pub/sub throws: it names the fix. */
const NO_PUBSUB = /no pub\/sub on this runtime.*host the route in a Durable Object/;
const NO_PUBSUB_GLOBAL = new RegExp(NO_PUBSUB.source, "g");

/** What the `Rooms` fixture answers to `{"whoami":1}`. */
interface WhoAmI {
  instance: string;
  params: object;
  maxMessagesPerSecond: number;
  /** `"available"`, or the error `this.context` throws. */
  context: string;
}

/** Resolves once `accept()` holds; rejects after `ms`. */
async function waitFor(accept: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!accept()) {
    if (Date.now() > deadline) throw new Error("condition not met within " + ms + " ms");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A client of the `Rooms` fixture handler. */
export interface RoomClient extends Client {
  /** Sends a command and waits for its `{ ok }` answer. */
  command(command: object): Promise<unknown>;
}

/** Opens a `Rooms` client; `command` waits for the next answer, so keep one command in flight. */
export async function openRoomClient(url: string): Promise<RoomClient> {
  const client = await openClient(url);
  const isAnswer = (text: string) => text.startsWith("{"); // else a publication
  // Answers that arrived with the handshake, before this listener: `openClient` recorded them.
  const answers: unknown[] = client.messages.map(String).filter(isAnswer).map((text) => JSON.parse(text));
  const waiting: ((answer: unknown) => void)[] = [];
  client.ws.on("message", (data: Buffer) => {
    const text = data.toString();
    if (!isAnswer(text)) return;
    const answer = JSON.parse(text);
    const next = waiting.shift();
    if (next) next(answer);
    else answers.push(answer);
  });
  return Object.assign(client, {
    command(command: object) {
      client.ws.send(JSON.stringify(command));
      if (answers.length) return Promise.resolve(answers.shift());
      return new Promise((resolve) => waiting.push(resolve));
    },
  });
}

/** The publications (non-JSON messages) a client received so far. */
export function publications(client: Client): string[] {
  return client.messages.map(String).filter((m) => !m.startsWith("{"));
}

/** Resolves once `client` has received `count` publications; rejects after 15 s. */
export async function publicationsArrived(client: Client, count: number, ms = 15_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  while (publications(client).length < count) {
    if (Date.now() > deadline) throw new Error(`${publications(client).length} of ${count} publications arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return publications(client);
}

/** Where the rooms are served: `pubsub: false` where the runtime cannot send across requests (a plain Worker). */
export interface RoomsCapabilities {
  pubsub: boolean;
  /** A path prefix, e.g. `/do/main` for the rooms inside one Durable Object. */
  prefix?: string;
  /** A name for the describe block, default the runtime's. */
  label?: string;
  /** Sockets outlive their handlers (a Durable Object hibernates after 10 s idle under `wrangler dev`). */
  hibernation?: boolean;
}

export function runRooms(runtime: RuntimeName, caps: RoomsCapabilities = { pubsub: true }): void {
  const prefix = caps.prefix ?? "";
  describe(`rooms on ${caps.label ?? runtime}`, () => {
    let server: RunningServer;
    const clients: Client[] = [];
    const open = async () => {
      const client = await openRoomClient(`${server.wsURL}${prefix}/rooms`);
      clients.push(client);
      return client;
    };
    const topic = (name: string) => `${name}-${runtime}-${nextTopic++}`;
    const subscriberCount = (name: string, accept: (n: number) => boolean = () => true) =>
      pollJSON<number>(`${server.httpURL}${prefix}/topics/${name}/subscribers`, accept);

    beforeAll(async () => {
      server = await startServer(runtime, entryOf(runtime, "fixture"));
    });
    afterAll(async () => {
      for (const client of clients) client.ws.terminate();
      await server?.stop();
    });

    test.skipIf(!caps.pubsub)(
      "A's publication reaches B in the same room, not A, never C in another room",
      async () => {
        const [x, y] = [topic("x"), topic("y")];
        const [a, b, c] = [await open(), await open(), await open()];
        await a.command({ sub: x });
        await b.command({ sub: x });
        await c.command({ sub: y });
        a.ws.send(JSON.stringify({ pub: x, data: "to x" }));
        a.ws.send(JSON.stringify({ pub: y, data: "to y" })); // handled after "to x", which C would have got first
        expect(await publicationsArrived(b, 1)).toEqual(["to x"]);
        expect(await publicationsArrived(c, 1)).toEqual(["to y"]);
        expect(await a.command({ topics: 1 })).toEqual({ topics: [x] });
        expect(publications(a)).toEqual([]);
      },
    );

    test.skipIf(!caps.pubsub)("with { self: true } the publisher gets its own publication too", async () => {
      const x = topic("x");
      const [a, b] = [await open(), await open()];
      await a.command({ sub: x });
      await b.command({ sub: x });
      a.ws.send(JSON.stringify({ pub: x, data: "to all", self: true }));
      expect(await publicationsArrived(a, 1)).toEqual(["to all"]);
      expect(await publicationsArrived(b, 1)).toEqual(["to all"]);
    });

    test.skipIf(!caps.pubsub)("after unsubscribe nothing more arrives; topics and counts follow", async () => {
      const x = topic("x");
      const [a, b] = [await open(), await open()];
      await a.command({ sub: x });
      await b.command({ sub: x });
      expect(await subscriberCount(x)).toBe(2);
      await b.command({ unsub: x });
      expect(await b.command({ topics: 1 })).toEqual({ topics: [] });
      expect(await subscriberCount(x)).toBe(1);
      a.ws.send(JSON.stringify({ pub: x, data: "gone", self: true }));
      await publicationsArrived(a, 1);
      await b.command({ sub: x }); // a round trip after the publication: it would have arrived by now
      expect(publications(b)).toEqual([]);
    });

    test.skipIf(!caps.pubsub)("a closed socket leaves its topics: subscriber counts go back to zero", async () => {
      const [x, y] = [topic("x"), topic("y")];
      const [a, b] = [await open(), await open()];
      await a.command({ sub: x });
      await a.command({ sub: y });
      await b.command({ sub: x });
      expect([await subscriberCount(x), await subscriberCount(y)]).toEqual([2, 1]);
      a.ws.close();
      b.ws.terminate(); // no closing handshake
      expect(await subscriberCount(x, (n) => n === 0)).toBe(0);
      expect(await subscriberCount(y, (n) => n === 0)).toBe(0);
    });

    test.skipIf(!caps.pubsub)("an HTTP route publishes to every subscriber of a topic", async () => {
      const x = topic("x");
      const [a, b] = [await open(), await open()];
      await a.command({ sub: x });
      await b.command({ sub: x });
      const res = await fetch(`${server.httpURL}${prefix}/topics/${x}/publish`, { method: "POST", body: "from HTTP" });
      expect(res.status).toBe(200);
      expect(await publicationsArrived(a, 1)).toEqual(["from HTTP"]);
      expect(await publicationsArrived(b, 1)).toEqual(["from HTTP"]);
    });

    test.skipIf(!caps.pubsub)("1,000 publications reach 200 subscribers, each all of them in order", async () => {
      const x = topic("broadcast");
      const subscribers = await Promise.all(Array.from({ length: 200 }, open));
      await Promise.all(subscribers.map((s) => s.command({ sub: x })));
      const publisher = await open();
      publisher.ws.send(JSON.stringify({ burst: x, count: 1000 }));
      const expected = Array.from({ length: 1000 }, (_, i) => String(i));
      for (const subscriber of subscribers) {
        expect(await publicationsArrived(subscriber, 1000, 30_000)).toEqual(expected);
      }
    });

    test.skipIf(!caps.pubsub)("state set before messages is still there after them", async () => {
      const x = topic("x");
      const [a, b] = [await open(), await open()];
      await a.command({ sub: x });
      await b.command({ sub: x });
      expect(await a.command({ state: { name: "ann", joined: [x] } })).toEqual({ ok: "state" });
      for (let i = 0; i < 5; i++) b.ws.send(JSON.stringify({ pub: x, data: `b${i}` }));
      for (let i = 0; i < 5; i++) a.ws.send(JSON.stringify({ pub: x, data: `a${i}` }));
      expect(await publicationsArrived(a, 5)).toEqual(["b0", "b1", "b2", "b3", "b4"]);
      expect(await publicationsArrived(b, 5)).toEqual(["a0", "a1", "a2", "a3", "a4"]);
      expect(await a.command({ getState: 1 })).toEqual({ state: { name: "ann", joined: [x] } });
      expect(await b.command({ getState: 1 })).toEqual({ state: null });
    });

    test.skipIf(!caps.hibernation)("after hibernation the handler is rebuilt: state and topics survive", async () => {
      const url = `${server.wsURL}${prefix}-hibernating/rooms`;
      const [a, b] = [await openRoomClient(url), await openRoomClient(url)];
      clients.push(a, b);
      await a.command({ sub: "x" });
      await b.command({ sub: "x" });
      await a.command({ state: { name: "ann" } });
      await a.command({ mutate: "mood", value: "sleepy" });
      const before = (await a.command({ whoami: 1 })) as WhoAmI;
      // workerd evicts an object idle for 10 s; each look wakes it, so look again only after 11 s of quiet.
      let after = before;
      for (let look = 0; look < 5 && after.instance === before.instance; look++) {
        await new Promise((r) => setTimeout(r, 11_000));
        after = (await a.command({ whoami: 1 })) as WhoAmI;
      }
      expect(after.instance).not.toBe(before.instance); // a new handler on the same open socket
      expect(after.params).toEqual({ name: "main-hibernating" });
      expect(after.context).toMatch(/available only until `open` has run/); // no context after hibernation
      expect(after.maxMessagesPerSecond).toBe(5000); // the route's own limits, not the defaults
      expect(await a.command({ getState: 1 })).toEqual({ state: { name: "ann", mood: "sleepy" } });
      expect(await b.command({ topics: 1 })).toEqual({ topics: ["x"] });
      b.ws.send(JSON.stringify({ pub: "x", data: "after waking" }));
      expect(await publicationsArrived(a, 1)).toEqual(["after waking"]);
    }, 90_000);

    test.skipIf(!caps.hibernation)(
      "the platform answers the heartbeat ping with pong (setWebSocketAutoResponse)",
      async () => {
        const a = await open();
        a.ws.send("ping");
        expect(await a.message()).toBe("pong");
      },
    );

    test.skipIf(!caps.hibernation)(
      "a socket the object accepted itself, without the edgesocket tag, is left alone: its messages stay the object's",
      async () => {
        const own = await openClient(`${server.wsURL}${prefix}/untagged`);
        clients.push(own);
        own.ws.send("hi");
        own.ws.send("again");
        expect(await own.message(2)).toBe("untagged: again");
        expect(own.messages).toEqual(["untagged: hi", "untagged: again"]);
        expect(own.ws.readyState).toBe(own.ws.OPEN);
      },
    );

    test.skipIf(caps.pubsub)("without pub/sub, subscribe fails clearly: onError gets the fix, then 1011", async () => {
      const id = `${topic("errors")}-${process.pid}`;
      const a = await openRoomClient(`${server.wsURL}${prefix}/rooms?id=${id}`);
      clients.push(a);
      a.ws.send(JSON.stringify({ sub: topic("x") }));
      expect((await a.closed).code).toBe(1011);
      const seen = await pollJSON<{ errors: string[] } | null>(
        `${server.httpURL}/stats/${id}`,
        (s) => !!s?.errors.length,
      );
      expect(seen?.errors).toEqual([expect.stringMatching(NO_PUBSUB)]);
      const res = await fetch(`${server.httpURL}${prefix}/topics/x/publish`, { method: "POST", body: "lost" });
      expect(res.status).toBe(500);
      await waitFor(() => (server.output().match(NO_PUBSUB_GLOBAL) ?? []).length >= 1);
    });
  });
}
