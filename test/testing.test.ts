import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { WebSocketClosedError } from "../src/core/errors.ts";
import { WebSocketHandler } from "../src/core/handler.ts";
import type { Message } from "../src/core/message.ts";
import { websocket } from "../src/core/route.ts";
import { connect, HandshakeRefusedError, testServer } from "../src/testing.ts";

class Echo extends WebSocketHandler {
  /** The upgrade request, kept by `open`: `this.request` is released once `open` has run. */
  upgradeRequest: Request | undefined;
  received: Message[] = [];
  closedWith: [number, string] | undefined;
  override open(): void {
    this.upgradeRequest = this.request;
  }
  override onMessage(message: Message): void {
    this.received.push(message);
    if (message === "close") this.close(4000, "asked");
    else if (message === "throw") throw new Error("asked to throw");
    else this.send(message);
  }
  override onClose(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
  override onError(): void {}
}

describe("#connect", () => {
  it("mounts the handler at the path by default", async () => {
    const client = await connect(Echo, { path: "/deep/path" });
    expect(new URL(client.handler.upgradeRequest!.url).pathname).toBe("/deep/path");
  });

  it("sends a valid upgrade request with Host, Origin and Sec-WebSocket-Protocol", async () => {
    const client = await connect(Echo, {
      path: "https://example.com/ws",
      origin: "https://example.com",
      protocols: ["a", "b"],
    });
    const headers = client.handler.upgradeRequest!.headers;
    expect(headers.get("host")).toBe("example.com");
    expect(headers.get("origin")).toBe("https://example.com");
    expect(headers.get("sec-websocket-protocol")).toBe("a, b");
    expect(headers.get("sec-websocket-version")).toBe("13");
  });

  it("rejects with HandshakeRefusedError when no route matches", async () => {
    const error = await connect(Echo, { path: "/a", route: "/b" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeRefusedError);
    expect((error as HandshakeRefusedError).status).toBe(404);
    expect((error as HandshakeRefusedError).message).toBe("handshake refused: 404 404 Not Found");
  });

  it("connects to an app that mounts the handler itself, with its bindings in c.env", async () => {
    class ReadsEnv extends WebSocketHandler<{ Bindings: { GREETING: string } }> {
      override open(): void {
        this.send(this.context.env.GREETING);
      }
    }
    const app = new Hono();
    app.get("/ws", websocket(ReadsEnv));
    const client = await connect(app, { path: "/ws", env: { GREETING: "hello" } });
    expect(await client.nextMessage()).toBe("hello");
  });
});

describe("#send", () => {
  it("delivers text as a string", async () => {
    const client = await connect(Echo);
    client.send("hi");
    expect(client.handler.received).toEqual(["hi"]);
  });

  it("delivers a Uint8Array view as a fresh ArrayBuffer holding only its bytes", async () => {
    const client = await connect(Echo);
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    client.send(backing.subarray(1, 4));
    const [received] = client.handler.received;
    expect(received).toBeInstanceOf(ArrayBuffer);
    expect(received).not.toBe(backing.buffer);
    expect([...new Uint8Array(received as ArrayBuffer)]).toEqual([1, 2, 3]);
  });

  it("delivers an ArrayBuffer as a copy", async () => {
    const client = await connect(Echo);
    const buffer = new Uint8Array([1, 2]).buffer;
    client.send(buffer);
    expect(client.handler.received[0]).not.toBe(buffer);
    expect([...new Uint8Array(client.handler.received[0] as ArrayBuffer)]).toEqual([1, 2]);
  });

  it("throws WebSocketClosedError once the connection has closed", async () => {
    const client = await connect(Echo);
    await client.close();
    expect(() => client.send("late")).toThrow(WebSocketClosedError);
  });
});

describe("#nextMessage", () => {
  it("returns the handler's messages in order, binary as ArrayBuffer", async () => {
    const client = await connect(Echo);
    client.send("one");
    client.send(new Uint8Array([7]));
    expect(await client.nextMessage()).toBe("one");
    expect([...new Uint8Array((await client.nextMessage()) as ArrayBuffer)]).toEqual([7]);
    expect(client.messages).toHaveLength(2);
  });

  it("waits for a message sent later", async () => {
    const client = await connect(Echo);
    const next = client.nextMessage();
    setTimeout(() => client.send("later"), 5);
    expect(await next).toBe("later");
  });

  it("rejects after the timeout when no message comes", async () => {
    const client = await connect(Echo);
    await expect(client.nextMessage({ timeout: 10 })).rejects.toThrow(/no message from the handler within 10 ms/);
  });

  it("rejects with WebSocketClosedError when the connection closes first", async () => {
    const client = await connect(Echo);
    const next = client.nextMessage();
    client.send("close");
    await expect(next).rejects.toThrow(WebSocketClosedError);
    await expect(client.nextMessage()).rejects.toThrow("the connection closed (4000 asked) before another message");
  });
});

describe("`closed`", () => {
  it("resolves with the handler's close after onClose ran", async () => {
    const client = await connect(Echo);
    client.send("close");
    expect(client.handler.closedWith).toBeUndefined();
    expect(await client.closed).toEqual({ code: 4000, reason: "asked" });
    expect(client.handler.closedWith).toEqual([4000, "asked"]);
  });

  it("resolves with 1011 when a hook throws", async () => {
    const client = await connect(Echo);
    client.send("throw");
    expect(await client.closed).toEqual({ code: 1011, reason: "internal error" });
  });

  it("resolves with 1009 when a message is too big", async () => {
    const client = await connect(Echo, { options: { maxMessageSize: 3 } });
    client.send("four");
    expect(await client.closed).toEqual({ code: 1009, reason: "message too big" });
    expect(client.handler.received).toEqual([]);
  });
});

describe("#close", () => {
  it("closes from the client's side and resolves once onClose ran", async () => {
    const client = await connect(Echo);
    expect(await client.close(4001, "client")).toEqual({ code: 4001, reason: "client" });
    expect(client.handler.closedWith).toEqual([4001, "client"]);
  });

  it("closes with 1000 by default", async () => {
    const client = await connect(Echo);
    expect(await client.close()).toEqual({ code: 1000, reason: "" });
  });

  it("reports the client's close when it arrives before the handler's close is echoed", async () => {
    const client = await connect(Echo);
    client.handler.close(4002, "server");
    expect(await client.close(4003, "client")).toEqual({ code: 4003, reason: "client" });
    expect(client.handler.closedWith).toEqual([4003, "client"]);
  });

  it("resolves only after a running async hook settles", async () => {
    let release!: () => void;
    const log: string[] = [];
    class Slow extends WebSocketHandler {
      override async onMessage(): Promise<void> {
        await new Promise<void>((resolve) => (release = resolve));
        log.push("message done");
      }
      override onClose(): void {
        log.push("close");
      }
    }
    const client = await connect(Slow);
    client.send("x");
    const closing = client.close();
    setTimeout(() => release(), 5);
    await closing;
    expect(log).toEqual(["message done", "close"]);
  });
});

describe("#drop", () => {
  it("reports an abnormal close, 1006", async () => {
    const client = await connect(Echo);
    client.drop();
    expect(await client.closed).toEqual({ code: 1006, reason: "" });
    expect(client.handler.closedWith).toEqual([1006, ""]);
  });
});

describe("open", () => {
  it("runs after the upgrade response, and holds messages until an async open settles", async () => {
    let release!: () => void;
    const log: string[] = [];
    class SlowOpen extends WebSocketHandler {
      override async open(): Promise<void> {
        log.push("open");
        await new Promise<void>((resolve) => (release = resolve));
        log.push("open done");
      }
      override onMessage(message: Message): void {
        log.push(`message ${message as string}`);
      }
    }
    const client = await connect(SlowOpen);
    client.send("early");
    expect(log).toEqual(["open"]);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(log).toEqual(["open", "open done", "message early"]);
  });
});

describe("#connect and rooms", () => {
  class Room extends WebSocketHandler {
    override open(): void {
      this.subscribe("lobby");
    }
    override onMessage(message: Message): void {
      this.publish("lobby", message);
    }
  }

  it("clients of the same test server share topics; each connect() call has a server of its own", async () => {
    const server = testServer();
    const [a, b, alone] = [await server.connect(Room), await server.connect(Room), await connect(Room)];
    expect([server.openConnections, server.subscribers("lobby")]).toEqual([2, 2]);
    a.send("hi");
    expect(await b.nextMessage()).toBe("hi");
    server.publish("lobby", "from the server");
    expect(await a.nextMessage()).toBe("from the server");
    expect(await b.nextMessage()).toBe("from the server");
    expect(alone.messages).toEqual([]);
    for (const client of [a, b, alone]) await client.close();
    expect(server.openConnections).toBe(0);
  });
});
