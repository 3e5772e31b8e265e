import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { publish, subscribers } from "../../src/core/route-pubsub.ts";
import { RUNTIME, Runtime } from "../../src/core/runtime.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

/** A route that publishes its body to `:topic` and answers with the topic's subscriber count. */
function announcer(): Hono {
  const app = new Hono();
  app.post("/:topic", async (c) => {
    publish(c, c.req.param("topic"), await c.req.text());
    return c.json(subscribers(c, c.req.param("topic")));
  });
  app.onError((error, c) => c.text(error.message, 500));
  return app;
}

function post(topic: string, body: string): Request {
  return new Request(`http://localhost/${topic}`, { method: "POST", body });
}

describe("publish(c), subscribers(c)", () => {
  it("publish from an HTTP route to the subscribers of the server serving the request, and count them", async () => {
    const runtime = new Runtime({ upgrade: () => new Response(null) });
    const subscribed = openConnection(new FakeBufferedTransport(), undefined, runtime);
    const other = openConnection(new FakeBufferedTransport(), undefined, runtime);
    runtime.pubsub!.subscribe(subscribed.connection, "news");
    const response = await announcer().fetch(post("news", "extra"), { [RUNTIME]: runtime });
    expect(await response.json()).toBe(1);
    expect([subscribed.transport.sent, other.transport.sent]).toEqual([["extra"], []]);
  });

  it("reach only the server of the request: another server's subscribers get nothing", async () => {
    const [here, there] = [
      new Runtime({ upgrade: () => new Response(null) }),
      new Runtime({ upgrade: () => new Response(null) }),
    ];
    const elsewhere = openConnection(new FakeBufferedTransport(), undefined, there);
    there.pubsub!.subscribe(elsewhere.connection, "news");
    expect(await (await announcer().fetch(post("news", "x"), { [RUNTIME]: here })).json()).toBe(0);
    expect(elsewhere.transport.sent).toEqual([]);
  });

  it("throw a clear error where there is no pub/sub: no adapter, or a plain Worker", async () => {
    const plainWorker = new Runtime({ upgrade: () => new Response(null), topics: false });
    for (const env of [{}, { [RUNTIME]: plainWorker }]) {
      const response = await announcer().fetch(post("news", "x"), env);
      expect([response.status, await response.text()]).toEqual([
        500,
        expect.stringMatching(/no pub\/sub.*Durable Object/),
      ]);
    }
  });
});
