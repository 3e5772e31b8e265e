import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { Connection } from "../../src/core/connection.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import { largestMessageSize, websocket } from "../../src/core/route.ts";
import { FRAMING_ROOM } from "../../src/core/session.ts";
import { RUNTIME, Runtime, type RuntimeOptions } from "../../src/core/runtime.ts";
import { connect, HandshakeRefusedError } from "../../src/testing.ts";

class Handler extends WebSocketHandler {
  openedWith: Record<string, string> | undefined;
  errors: unknown[] = [];
  override open(params: Record<string, string>): void {
    this.openedWith = params;
  }
  override onError(error: unknown): void {
    this.errors.push(error);
  }
}

async function refusal(promise: Promise<unknown>): Promise<HandshakeRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HandshakeRefusedError);
  return error as HandshakeRefusedError;
}

describe("#websocket", () => {
  describe("origin", () => {
    it("refuses a foreign Origin with 403", async () => {
      const error = await refusal(connect(Handler, { origin: "https://evil.example" }));
      expect(error.status).toBe(403);
      expect(error.reason).toBe("origin not allowed");
    });

    it("allows an Origin naming the request's host", async () => {
      const client = await connect(Handler, { path: "https://example.com/ws", origin: "https://example.com" });
      expect(client.handler.openedWith).toEqual({});
    });

    it("allows an Origin listed in allowedOrigins", async () => {
      const client = await connect(Handler, {
        origin: "https://app.example",
        options: { allowedOrigins: ["https://app.example"] },
      });
      expect(client.handler.openedWith).toEqual({});
    });

    it("refuses an Origin that allowedOrigins does not list", async () => {
      const error = await refusal(
        connect(Handler, { origin: "https://evil.example", options: { allowedOrigins: ["https://app.example"] } }),
      );
      expect(error.status).toBe(403);
    });

    it('allows any Origin with allowedOrigins ["*"]', async () => {
      const client = await connect(Handler, { origin: "https://evil.example", options: { allowedOrigins: ["*"] } });
      expect(client.handler.openedWith).toEqual({});
    });

    it("allows a request without Origin", async () => {
      const client = await connect(Handler);
      expect(client.handler.openedWith).toEqual({});
    });

    it("lets checkOrigin allow an origin the default would refuse", async () => {
      const seen: string[] = [];
      class Lenient extends Handler {
        override checkOrigin(origin: string): boolean {
          seen.push(origin);
          return origin.endsWith(".trusted.example");
        }
      }
      await connect(Lenient, { origin: "https://a.trusted.example" });
      expect(seen).toEqual(["https://a.trusted.example"]);
    });

    it("lets checkOrigin refuse the request's own host", async () => {
      class Strict extends Handler {
        override checkOrigin(): boolean {
          return false;
        }
      }
      const error = await refusal(connect(Strict, { path: "http://localhost/", origin: "http://localhost" }));
      expect(error.status).toBe(403);
    });

    it("does not call checkOrigin for an origin allowedOrigins lists", async () => {
      const checkOrigin = vi.fn(() => false);
      class Checks extends Handler {
        override checkOrigin = checkOrigin;
      }
      await connect(Checks, { origin: "https://app.example", options: { allowedOrigins: ["https://app.example"] } });
      expect(checkOrigin).not.toHaveBeenCalled();
    });

    it("refuses with 500 when checkOrigin throws", async () => {
      class Throws extends Handler {
        override checkOrigin(): boolean {
          throw new Error("lookup failed");
        }
      }
      const error = await refusal(connect(Throws, { origin: "https://x.example" }));
      expect(error.status).toBe(500);
      expect(error.reason).toBe("internal error");
    });
  });

  describe("subprotocol", () => {
    it("uses the subprotocol selectSubprotocol chooses", async () => {
      const offered: string[][] = [];
      class Chat extends Handler {
        override selectSubprotocol(protocols: readonly string[]): string | null {
          offered.push([...protocols]);
          return protocols.includes("chat.v1") ? "chat.v1" : null;
        }
      }
      const client = await connect(Chat, { protocols: ["chat.v2", "chat.v1"] });
      expect(offered).toEqual([["chat.v2", "chat.v1"]]);
      expect(client.protocol).toBe("chat.v1");
      expect(client.handler.protocol).toBe("chat.v1");
    });

    it("uses no subprotocol when selectSubprotocol returns null", async () => {
      const client = await connect(Handler, { protocols: ["chat"] });
      expect(client.protocol).toBe("");
    });

    it("does not call selectSubprotocol when the client offers none", async () => {
      const select = vi.fn(() => null);
      class Selects extends Handler {
        override selectSubprotocol = select;
      }
      await connect(Selects);
      expect(select).not.toHaveBeenCalled();
    });

    it("refuses with 500 and reports to onError when selectSubprotocol returns a value not offered", async () => {
      let handler: Handler | undefined;
      class Wrong extends Handler {
        constructor() {
          super();
          handler = this;
        }
        override selectSubprotocol(): string {
          return "graphql";
        }
      }
      const error = await refusal(connect(Wrong, { protocols: ["chat"] }));
      expect(error.status).toBe(500);
      expect(error.reason).toBe("internal error");
      expect(handler!.errors).toEqual([
        new Error('selectSubprotocol returned "graphql", which the client did not offer'),
      ]);
      expect(handler!.openedWith).toBeUndefined();
    });
  });

  describe("context", () => {
    it("passes the route params to open and this.params", async () => {
      const client = await connect(Handler, { path: "/room/42", route: "/room/:id" });
      expect(client.handler.openedWith).toEqual({ id: "42" });
      expect(client.handler.params).toEqual({ id: "42" });
      expect(Object.isFrozen(client.handler.params)).toBe(true);
    });

    it("gives a route without params one frozen empty object, made once, not per connection", async () => {
      const [one, two] = [await connect(Handler), await connect(Handler)];
      expect(one.handler.params).toEqual({});
      expect(Object.isFrozen(one.handler.params)).toBe(true);
      expect(one.handler.params).toBe(two.handler.params);
      expect(one.handler.openedWith).toBe(one.handler.params);
    });

    it("shows what middleware set through this.context.get", async () => {
      class Reads extends WebSocketHandler<{ Variables: { user: string } }> {
        user: string | undefined;
        override open(): void {
          this.user = this.context.get("user");
        }
      }
      const app = new Hono<{ Variables: { user: string } }>();
      app.use(async (c, next) => {
        c.set("user", "ada");
        await next();
      });
      app.get("/ws", websocket(Reads));
      const client = await connect<Reads>(app, { path: "/ws" });
      expect(client.handler.user).toBe("ada");
    });

    it("exposes the upgrade request as this.request", async () => {
      class Reads extends Handler {
        token: string | null = null;
        client: string | null = null;
        override open(): void {
          this.token = new URL(this.request.url).searchParams.get("token");
          this.client = this.request.headers.get("x-client");
        }
      }
      const client = await connect(Reads, { path: "/ws?token=t", headers: { "x-client": "test" } });
      expect(client.handler.token).toBe("t");
      expect(client.handler.client).toBe("test");
    });

    it("keeps the context through checkOrigin, selectSubprotocol and an async open", async () => {
      const seen: string[] = [];
      class Reads extends Handler {
        override checkOrigin(origin: string): boolean {
          seen.push(`origin ${this.request.headers.get("x-client")}`);
          return origin === "https://allowed.example";
        }
        override selectSubprotocol(offered: string[]): string {
          seen.push(`protocol ${this.request.headers.get("x-client")}`);
          return offered[0]!;
        }
        override async open(): Promise<void> {
          await Promise.resolve();
          seen.push(`open ${this.context.req.header("x-client")}`);
        }
      }
      await connect(Reads, { origin: "https://allowed.example", protocols: ["p"], headers: { "x-client": "c" } });
      expect(seen).toEqual(["origin c", "protocol c", "open c"]);
    });

    it("releases the context once open has run: later hooks get a clear error, params stay", async () => {
      class Late extends Handler {
        override onMessage(): void {
          this.send(String(this.params.id));
          this.send(this.request.url);
        }
      }
      const client = await connect(Late, { path: "/room/7", route: "/room/:id" });
      client.send("hi");
      expect(await client.closed).toMatchObject({ code: 1011 });
      expect(client.messages).toEqual(["7"]);
      expect(client.handler.errors).toHaveLength(1);
      expect(String(client.handler.errors[0])).toContain("available only until `open` has run");
    });

    it("releases the context when an async open rejects, after onError has read it", async () => {
      let url = "";
      class Fails extends Handler {
        override async open(): Promise<void> {
          await Promise.resolve();
          throw new Error("refused");
        }
        override onError(error: unknown): void {
          super.onError(error);
          url = this.request.url;
        }
      }
      const client = await connect(Fails, { path: "/ws" });
      await client.closed;
      expect(new URL(url).pathname).toBe("/ws");
      expect(() => client.handler.context).toThrow("available only until `open` has run");
    });
  });

  describe("handshake", () => {
    it("refuses a broken handshake before the handler exists", async () => {
      const constructed = vi.fn();
      class Counts extends Handler {
        constructor() {
          super();
          constructed();
        }
      }
      const error = await refusal(connect(Counts, { headers: { "sec-websocket-version": "8" } }));
      expect(error.status).toBe(426);
      expect(error.response.headers.get("sec-websocket-version")).toBe("13");
      expect(constructed).not.toHaveBeenCalled();
    });

    it("throws into Hono's error handling when no runtime adapter is in c.env", async () => {
      const errors: unknown[] = [];
      const app = new Hono();
      app.get("/ws", websocket(Handler));
      app.onError((error, c) => {
        errors.push(error);
        return c.text("failed", 500);
      });
      const request = new Request("http://localhost/ws", {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      });
      const response = await app.fetch(request, {});
      expect(response.status).toBe(500);
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toMatch(/^edgesocket: no runtime adapter/);
    });

    it("hands the connection to the runtime with the chosen protocol, one handler per request", async () => {
      const upgrade = vi.fn<RuntimeOptions["upgrade"]>(() => new Response("upgraded"));
      const app = new Hono();
      app.get("/ws", websocket(Handler, { maxMessageSize: 10 }));
      const request = wsUpgrade;
      const env = { [RUNTIME]: new Runtime({ upgrade }) };
      expect(await (await app.fetch(request(), env)).text()).toBe("upgraded");
      await app.fetch(request(), env);
      const [first, second] = upgrade.mock.calls.map(([, connection]) => connection as Connection);
      expect(first!.limits.maxMessageSize).toBe(10);
      expect(first!.handler).toBeInstanceOf(Handler);
      expect(first!.handler).not.toBe(second!.handler);
      expect(first!.readyState).toBe(0);
    });

    it("rejects invalid options when the route is defined", () => {
      expect(() => websocket(Handler, { maxMessageSize: -1 })).toThrow(RangeError);
    });
  });
});

describe("maxConnections", () => {
  it("answers 503 once the server holds maxConnections open connections; other servers are not counted", async () => {
    const app = new Hono();
    app.get("/ws", websocket(Handler, { maxConnections: 1 }));
    const request = wsUpgrade;
    const full = new Runtime({
      upgrade: (_c, connection) => (connection.open({ send() {}, close() {} }), new Response("up")),
    });
    const empty = new Runtime({ upgrade: () => new Response("up") });
    expect(await (await app.fetch(request(), { [RUNTIME]: full })).text()).toBe("up");
    const refused = await app.fetch(request(), { [RUNTIME]: full });
    expect([refused.status, await refused.text()]).toEqual([503, "too many connections"]);
    expect(await (await app.fetch(request(), { [RUNTIME]: empty })).text()).toBe("up");
  });
});

describe("largestMessageSize", () => {
  it("is the largest maxMessageSize of an app's websocket() routes, sub-apps included, and at least the default", () => {
    const app = new Hono();
    expect(largestMessageSize(app)).toBe(1024 * 1024);
    app.get("/small", websocket(Handler, { maxMessageSize: 10 }));
    app.get("/plain", (c) => c.text("not a WebSocket route"));
    expect(largestMessageSize(app)).toBe(1024 * 1024);
    app.route("/rooms", new Hono().get("/:room", websocket(Handler, { maxMessageSize: 3 * 1024 * 1024 })));
    expect(largestMessageSize(app)).toBe(3 * 1024 * 1024);
    expect(largestMessageSize({})).toBe(1024 * 1024);
  });

  it("leaves a resume route's sockets room for the protocol's framing", () => {
    const app = new Hono().get("/r", websocket(Handler, { maxMessageSize: 2 * 1024 * 1024, resume: true }));
    expect(largestMessageSize(app)).toBe(2 * 1024 * 1024 + FRAMING_ROOM);
  });
});

/** A valid upgrade request for `/ws`. */
function wsUpgrade(): Request {
  return new Request("http://localhost/ws", {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
}
