import { afterEach, describe, expect, it, vi } from "vitest";
import { ReadyState } from "../../src/core/constants.ts";
import { WebSocketClosedError } from "../../src/core/errors.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import { connect } from "../../src/testing.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("#onError", () => {
  it("logs the error by default", () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const error = new Error("x");
    new WebSocketHandler().onError(error);
    expect(logged).toHaveBeenCalledWith("edgesocket: error in a WebSocket handler:", error);
  });
});

describe("#selectSubprotocol", () => {
  it("chooses none by default", () => {
    expect(new WebSocketHandler().selectSubprotocol(["chat"])).toBeNull();
  });
});

describe("#checkOrigin", () => {
  it("allows the request's own host by default", async () => {
    const path = "http://example.com:8080/";
    await expect(connect(WebSocketHandler, { path, origin: "http://example.com:8080" })).resolves.toBeDefined();
    const refused = await connect(WebSocketHandler, { path, origin: "http://example.com" }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 403 });
  });
});

describe("#send", () => {
  it("sends through the connection", async () => {
    const client = await connect(WebSocketHandler);
    client.handler.send("hello");
    expect(client.messages).toEqual(["hello"]);
  });

  it("throws WebSocketClosedError after close", async () => {
    const client = await connect(WebSocketHandler);
    client.handler.close();
    expect(() => client.handler.send("late")).toThrow(WebSocketClosedError);
  });
});

describe("#close", () => {
  it("closes with 1000 by default", async () => {
    const client = await connect(WebSocketHandler);
    client.handler.close();
    expect(await client.closed).toEqual({ code: 1000, reason: "" });
  });
});

describe("`readyState`", () => {
  it("follows the connection from OPEN to CLOSED", async () => {
    const client = await connect(WebSocketHandler);
    expect(client.handler.readyState).toBe(ReadyState.OPEN);
    client.handler.close();
    expect(client.handler.readyState).toBe(ReadyState.CLOSING);
    await client.closed;
    expect(client.handler.readyState).toBe(ReadyState.CLOSED);
  });
});

describe("#drained, `bufferedAmount`", () => {
  it("report the connection's send buffer: 0 and resolved at once where nothing waits", async () => {
    const client = await connect(WebSocketHandler);
    expect(client.handler.bufferedAmount).toBe(0);
    await expect(client.handler.drained()).resolves.toBeUndefined();
  });

  it("follow a buffer that fills and drains", async () => {
    const { connection, transport, handler } = openConnection(new FakeBufferedTransport(), { highWaterMark: 10 });
    transport.bufferedAmount = 20;
    expect(handler.bufferedAmount).toBe(20);
    let drained = false;
    const waiting = handler.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    transport.bufferedAmount = 5;
    connection.writable();
    await waiting;
    expect(drained).toBe(true);
    connection.closed(1000, "");
  });
});
