import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { MemoryTopics, type TopicEngine } from "../../src/core/pubsub.ts";
import { DEFAULT_LISTEN, RUNTIME, Runtime, runtimeOf } from "../../src/core/runtime.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

describe("Runtime", () => {
  it("has in-memory topics by default, the adapter's own engine when given, and none with `topics: false`", () => {
    const engine: TopicEngine = new MemoryTopics();
    expect(new Runtime({ upgrade: () => new Response(null) }).pubsub?.engine).toBeInstanceOf(MemoryTopics);
    expect(new Runtime({ upgrade: () => new Response(null), topics: engine }).pubsub?.engine).toBe(engine);
    expect(new Runtime({ upgrade: () => new Response(null), topics: false }).pubsub).toBeUndefined();
  });

  it("hands upgrades to the adapter's upgrade step", async () => {
    const runtime = new Runtime({
      upgrade: (_c, connection) => new Response(`upgrade of ${connection.protocol || "-"}`),
    });
    const { connection } = openConnection(new FakeBufferedTransport());
    expect(await (await runtime.upgrade({} as never, connection)).text()).toBe("upgrade of -");
  });

  it("calls persist when a connection's state or topics change (what a Durable Object saves)", () => {
    const saved: unknown[] = [];
    const runtime = new Runtime({
      upgrade: () => new Response(null),
      persist: (connection) => saved.push([connection.state, connection.topics]),
    });
    const { connection } = openConnection(new FakeBufferedTransport(), undefined, runtime);
    connection.state = { name: "ann" };
    runtime.pubsub!.subscribe(connection, "lobby");
    expect(saved).toEqual([[{ name: "ann" }, []], [{ name: "ann" }, ["lobby"]]]);
  });

  it("is found by runtimeOf(c) in the env the adapter passes; absent without an adapter", async () => {
    const runtime = new Runtime({ upgrade: () => new Response(null) });
    const app = new Hono().get("/", (c) => c.text(String(runtimeOf(c) === runtime)));
    expect(await (await app.fetch(new Request("http://localhost/"), { [RUNTIME]: runtime })).text()).toBe("true");
    expect(await (await app.fetch(new Request("http://localhost/"), {})).text()).toBe("false");
  });
});

describe("DEFAULT_LISTEN", () => {
  it("is port 8000 on every interface, as in the seed", () => {
    expect(DEFAULT_LISTEN).toEqual({ port: 8000, hostname: "0.0.0.0" });
    expect(Object.isFrozen(DEFAULT_LISTEN)).toBe(true);
  });
});
