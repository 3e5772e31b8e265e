import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Transport } from "../../src/core/connection.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import { websocket } from "../../src/core/route.ts";
import { RUNTIME, Runtime } from "../../src/core/runtime.ts";
import { SESSION_MOVE_CLOSE, SHUTDOWN_CLOSE } from "../../src/core/shutdown.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

const upgradeRequestHeaders = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

/** A server whose upgrades answer "upgraded" without a socket (the test opens connections itself). */
function fakeRuntime(): Runtime {
  return new Runtime({ upgrade: () => new Response("upgraded") });
}

/** A fake socket whose peer answers a close frame at once, as a live client does. */
function answeringTransport(onClose: (code: number, reason: string) => void): Transport {
  return { send() {}, close: (code = 1005, reason = "") => queueMicrotask(() => onClose(code, reason)) };
}

describe("#shutdown", () => {
  it("stops accepting, closes every socket with 1001 and resolves once every onClose ran", async () => {
    const runtime = fakeRuntime();
    const handlers = Array.from({ length: 3 }, () => {
      // The transport answers later, once `opened` exists.
      const transport = answeringTransport((code, reason) => opened.connection.closed(code, reason));
      const opened = openConnection(transport, undefined, runtime);
      return opened.handler;
    });
    let stopped = 0;
    await runtime.shutdown(() => stopped++);
    expect(stopped).toBe(1);
    expect(runtime.connections.size).toBe(0);
    expect(handlers.map((h) => h.closes)).toEqual(handlers.map(() => [[1001, "server shutting down"]]));
    expect(SHUTDOWN_CLOSE).toEqual({ code: 1001, reason: "server shutting down" });
    expect(SESSION_MOVE_CLOSE).toEqual({ code: 1012, reason: "server restarting: resume elsewhere" });
  });

  it("terminates sockets still open after the timeout; their onClose still runs", async () => {
    const runtime = fakeRuntime();
    const { connection, transport, handler } = openConnection(new FakeBufferedTransport(), undefined, runtime);
    transport.terminate = () => queueMicrotask(() => connection.closed(1006, ""));
    await runtime.shutdown(() => {}, { timeout: 50 });
    expect(transport.closes).toEqual([[1001, "server shutting down"]]);
    expect(handler.closes).toEqual([[1006, ""]]);
  });

  it("reports a socket the runtime never closes as closed (1006), so its onClose still runs", async () => {
    const runtime = fakeRuntime();
    const silent: Transport = { send() {}, close() {} };
    const { handler } = openConnection(silent, undefined, runtime);
    await runtime.shutdown(() => {}, { timeout: 20 });
    expect(handler.closes).toEqual([[1006, ""]]);
    expect(runtime.connections.size).toBe(0);
  });

  it("refuses new upgrades with 503 while shutting down", async () => {
    const runtime = fakeRuntime();
    const app = new Hono();
    app.get("/ws", websocket(WebSocketHandler));
    const env = { [RUNTIME]: runtime };
    const request = new Request("http://localhost/ws", { headers: upgradeRequestHeaders });
    expect(await (await app.fetch(request.clone(), env)).text()).toBe("upgraded");
    const done = runtime.shutdown(() => {});
    const refused = await app.fetch(request, env);
    expect([refused.status, await refused.text()]).toEqual([503, "server shutting down"]);
    await done;
  });

  it("marks the server as shutting down, and a second call returns the same promise", async () => {
    const runtime = fakeRuntime();
    const first = runtime.shutdown(() => {});
    expect(runtime.shuttingDown).toBe(true);
    expect(runtime.shutdown(() => {})).toBe(first);
    await first;
  });

  it("belongs to its server: another server in the same process keeps accepting", async () => {
    const [stopping, serving] = [fakeRuntime(), fakeRuntime()];
    const app = new Hono();
    app.get("/ws", websocket(WebSocketHandler));
    const request = () => new Request("http://localhost/ws", { headers: upgradeRequestHeaders });
    const done = stopping.shutdown(() => {});
    expect((await app.fetch(request(), { [RUNTIME]: stopping })).status).toBe(503);
    expect(await (await app.fetch(request(), { [RUNTIME]: serving })).text()).toBe("upgraded");
    expect(serving.shuttingDown).toBe(false);
    await done;
  });
});

describe("#shutdown with a close no socket may be sent", () => {
  it("throws a RangeError before anything stops: the server keeps accepting", async () => {
    const runtime = fakeRuntime();
    let stopped = 0;
    expect(() => runtime.shutdown(() => stopped++, { code: 1005 })).toThrow(RangeError);
    expect(() => runtime.shutdown(() => stopped++, { reason: "x".repeat(124) })).toThrow(/close reason/);
    expect([runtime.shuttingDown, stopped]).toEqual([false, 0]);
  });
});

describe("a connection that opens once shutdown has begun", () => {
  it("is closed with 1001 'server shutting down' right after its open, so its onClose still runs once", async () => {
    const runtime = fakeRuntime();
    const done = runtime.shutdown(() => {}, { timeout: 50 });
    const { connection, transport, handler } = openConnection(new FakeBufferedTransport(), undefined, runtime);
    expect(transport.closes).toEqual([[1001, "server shutting down"]]);
    connection.closed(1001, "server shutting down");
    await done;
    expect(handler.closes).toEqual([[1001, "server shutting down"]]);
  });
});
