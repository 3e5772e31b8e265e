import { type Env, Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Connection } from "../../src/core/connection.ts";
import { CONNECTION, WebSocketHandler } from "../../src/core/handler.ts";
import type { Message, SendData } from "../../src/core/message.ts";
import type { Backplane } from "../../src/core/pubsub.ts";
import { websocket } from "../../src/core/route.ts";
import { RUNTIME, Runtime } from "../../src/core/runtime.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";
import { connect, type TestServer, testServer } from "../../src/testing.ts";

/** Commands: "sub t", "unsub t", "pub t data", "self t data", "topics", "state v", "state?". */
class Room extends WebSocketHandler<Env, { name: string }> {
  leaveTopic: string | undefined;
  override onMessage(message: Message): void {
    const [command, topic = "", ...rest] = String(message).split(" ");
    const data = rest.join(" ");
    if (command === "sub") this.subscribe(topic);
    else if (command === "unsub") this.unsubscribe(topic);
    else if (command === "pub") this.publish(topic, data);
    else if (command === "self") this.publish(topic, data, { self: true });
    else if (command === "topics") this.send(this.topics.join(","));
    else if (command === "state") this.state = { name: topic };
    else if (command === "state?") this.send(JSON.stringify(this.state ?? null));
  }
  topicsAtClose: string[] = [];
  override onClose(): void {
    this.topicsAtClose = this.topics;
    if (this.leaveTopic) this.publish(this.leaveTopic, "left");
    this.subscribe("after-close"); // ignored: the connection is closed
  }
  override onError(): void {}
}

async function room(server: TestServer) {
  return server.connect(Room);
}

describe("PubSub", () => {
  describe("#publish", () => {
    it("reaches every subscriber of the topic but the sender, and no other topic", async () => {
      const pubsub = testServer();
      const [a, b, c] = [await room(pubsub), await room(pubsub), await room(pubsub)];
      a.send("sub x");
      b.send("sub x");
      c.send("sub y");
      a.send("pub x hello");
      expect(await b.nextMessage()).toBe("hello");
      expect(a.messages).toEqual([]);
      expect(c.messages).toEqual([]);
    });

    it("reaches the sender too with { self: true }", async () => {
      const pubsub = testServer();
      const [a, b] = [await room(pubsub), await room(pubsub)];
      a.send("sub x");
      b.send("sub x");
      a.send("self x all");
      expect([await a.nextMessage(), await b.nextMessage()]).toEqual(["all", "all"]);
    });

    it("keeps binary binary", async () => {
      const pubsub = testServer();
      const [a, b] = [await room(pubsub), await room(pubsub)];
      b.send("sub bin");
      a.send("sub bin");
      pubsub.publish("bin", new Uint8Array([1, 2, 3])); // from outside a handler: nobody left out
      expect(new Uint8Array((await a.nextMessage()) as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
      expect(new Uint8Array((await b.nextMessage()) as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    });

    it("goes on to the others when one socket fails to send", async () => {
      const pubsub = testServer();
      const [a, b, c] = [await room(pubsub), await room(pubsub), await room(pubsub)];
      for (const client of [a, b, c]) client.send("sub x");
      b.handler[CONNECTION].transport!.send = () => {
        throw new Error("socket broke");
      };
      a.send("pub x still");
      expect(await c.nextMessage()).toBe("still");
    });

    it("refuses an empty topic or one over 256 characters with a TypeError", () => {
      const pubsub = testServer();
      expect(() => pubsub.publish("", "x")).toThrow(TypeError);
      expect(() => pubsub.publish("t".repeat(257), "x")).toThrow(/at most 256/);
    });
  });

  describe("#subscribe, #unsubscribe", () => {
    it("track the connection's topics and the topic's subscriber count", async () => {
      const pubsub = testServer();
      const [a, b] = [await room(pubsub), await room(pubsub)];
      a.send("sub x");
      a.send("sub x"); // twice: once
      a.send("sub y");
      b.send("sub x");
      a.send("topics");
      expect(await a.nextMessage()).toBe("x,y");
      expect([pubsub.subscribers("x"), pubsub.subscribers("y")]).toEqual([2, 1]);
      a.send("unsub x");
      a.send("unsub never");
      a.send("topics");
      expect(await a.nextMessage()).toBe("y");
      expect(pubsub.subscribers("x")).toBe(1);
      b.send("pub x nobody");
      await Promise.resolve();
      expect(a.messages).toEqual(["x,y", "y"]);
    });

    it("a closed connection leaves all its topics once; onClose can still publish to the others", async () => {
      const pubsub = testServer();
      const [a, b] = [await room(pubsub), await room(pubsub)];
      a.send("sub x");
      a.send("sub y");
      b.send("sub x");
      a.handler.leaveTopic = "x";
      await a.close();
      expect([pubsub.subscribers("x"), pubsub.subscribers("y"), pubsub.subscribers("after-close")]).toEqual([1, 0, 0]);
      expect(await b.nextMessage()).toBe("left");
      expect(a.handler.topicsAtClose).toEqual(["x", "y"]); // what onClose may announce to
      b.drop();
      await b.closed;
      expect(pubsub.subscribers("x")).toBe(0);
    });
  });

  describe("#restore, #isSubscribed", () => {
    it("puts a rebuilt connection back into its saved topics without reporting a change", () => {
      const changes: unknown[] = [];
      const runtime = new Runtime({ upgrade: () => new Response(null), persist: (c) => changes.push(c) });
      const { connection, transport } = openConnection(new FakeBufferedTransport(), undefined, runtime);
      runtime.pubsub!.restore(connection, ["a", "b"]);
      expect([runtime.pubsub!.isSubscribed(connection, "a"), runtime.pubsub!.isSubscribed(connection, "c")]).toEqual([
        true,
        false,
      ]);
      expect([connection.topics, runtime.pubsub!.subscribers("b"), changes]).toEqual([["a", "b"], 1, []]);
      runtime.pubsub!.publish("b", "to the rebuilt one");
      expect(transport.sent).toEqual(["to the rebuilt one"]);
    });
  });

  describe("limits", () => {
    it("a connection may be in 1,000 topics by default; one more throws a RangeError", async () => {
      const pubsub = testServer();
      const client = await room(pubsub);
      const connection = client.handler[CONNECTION];
      const topics = connection.runtime!.pubsub!;
      for (let i = 0; i < 1000; i++) topics.subscribe(connection, `t${i}`);
      expect(() => topics.subscribe(connection, "one more")).toThrow(/at most 1000 topics/);
      topics.subscribe(connection, "t0"); // already in: fine
      expect(connection.topics).toHaveLength(1000);
    });

    it("the limit is configurable per server", () => {
      const runtime = new Runtime({ upgrade: () => new Response(null), maxTopicsPerConnection: 1 });
      const { connection } = openConnection(new FakeBufferedTransport(), undefined, runtime);
      runtime.pubsub!.subscribe(connection, "a");
      expect(() => runtime.pubsub!.subscribe(connection, "b")).toThrow(/at most 1 topics/);
      connection.closed(1000, "");
      expect(runtime.pubsub!.subscribers("a")).toBe(0); // left on close
    });
  });

  describe("with a backplane", () => {
    /** An in-memory stand-in for Redis between two PubSubs: a fake, named as such. */
    function fakeBackplanePair(): [Backplane, Backplane, SendData[]] {
      const relayed: SendData[] = [];
      const deliver: ((topic: string, data: SendData) => void)[] = [];
      const side = (other: number): Backplane => ({
        start: (d) => void deliver.push(d),
        publish: (topic, data) => {
          relayed.push(data);
          deliver[other]?.(topic, data);
        },
        close: async () => {},
      });
      return [side(1), side(0), relayed];
    }

    it("hands each publication to the backplane once and delivers what other servers publish", async () => {
      const [one, two, relayed] = fakeBackplanePair();
      const [here, there] = [testServer({ backplane: one }), testServer({ backplane: two })];
      const [a, b] = [await room(here), await room(there)];
      a.send("sub x");
      b.send("sub x");
      a.send("pub x across");
      expect(await b.nextMessage()).toBe("across");
      expect(relayed).toEqual(["across"]);
      expect(a.messages).toEqual([]); // not echoed: the other side delivers locally only
    });
  });
});

describe("WebSocketHandler", () => {
  it("`state` starts undefined and keeps what was assigned", async () => {
    const client = await connect(Room);
    client.send("state?");
    expect(await client.nextMessage()).toBe("null");
    client.send("state ann");
    client.send("state?");
    expect(await client.nextMessage()).toBe('{"name":"ann"}');
  });

  it("#subscribe without a runtime pub/sub throws a clear error (plain Cloudflare Workers)", async () => {
    const errors: unknown[] = [];
    class Lonely extends WebSocketHandler {
      override onMessage(): void {
        this.subscribe("x");
      }
      override onError(error: unknown): void {
        errors.push(error);
      }
    }
    const app = new Hono().get("/", websocket(Lonely));
    let accepted: Connection | undefined;
    const withoutPubSub = new Runtime({
      upgrade: (_c, connection) => ((accepted = connection as Connection), new Response(null)),
      topics: false,
    });
    await app.fetch(upgradeRequest(), { [RUNTIME]: withoutPubSub });
    accepted!.open({ send() {}, close() {} });
    accepted!.receive("go");
    expect(String(errors[0])).toMatch(/Durable Object/);
  });
});

function upgradeRequest(): Request {
  return new Request("http://localhost/", {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    },
  });
}
