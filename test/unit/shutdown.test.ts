import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Transport } from "../../src/core/connection.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import { ConnectionRegistry } from "../../src/core/registry.ts";
import { RUNTIME, websocket } from "../../src/core/websocket.ts";
import { createShutdown, isShuttingDown, SHUTDOWN_CLOSE } from "../../src/core/shutdown.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

const upgradeRequestHeaders = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

/** A fake socket whose peer answers a close frame at once, as a live client does. */
function answeringTransport(onClose: (code: number, reason: string) => void): Transport {
  return { send() {}, close: (code = 1005, reason = "") => queueMicrotask(() => onClose(code, reason)) };
}

describe("#shutdown", () => {
  it("stops accepting, closes every socket with 1001 and resolves once every onClose ran", async () => {
    const registry = new ConnectionRegistry();
    const handlers = Array.from({ length: 3 }, () => {
      // The transport answers later, once `opened` exists.
      const transport = answeringTransport((code, reason) => opened.connection.closed(code, reason));
      const opened = openConnection(transport, undefined, registry);
      return opened.handler;
    });
    let stopped = 0;
    await createShutdown(registry, () => stopped++)();
    expect(stopped).toBe(1);
    expect(registry.size).toBe(0);
    expect(handlers.map((h) => h.closes)).toEqual(handlers.map(() => [[1001, "server shutting down"]]));
    expect(SHUTDOWN_CLOSE).toEqual({ code: 1001, reason: "server shutting down" });
  });

  it("terminates sockets still open after the timeout; their onClose still runs", async () => {
    const registry = new ConnectionRegistry();
    const { connection, transport, handler } = openConnection(new FakeBufferedTransport(), undefined, registry);
    transport.terminate = () => queueMicrotask(() => connection.closed(1006, ""));
    await createShutdown(registry, () => {})({ timeout: 50 });
    expect(transport.closes).toEqual([[1001, "server shutting down"]]);
    expect(handler.closes).toEqual([[1006, ""]]);
  });

  it("reports a socket the runtime never closes as closed (1006), so its onClose still runs", async () => {
    const registry = new ConnectionRegistry();
    const silent: Transport = { send() {}, close() {} };
    const { handler } = openConnection(silent, undefined, registry);
    await createShutdown(registry, () => {})({ timeout: 20 });
    expect(handler.closes).toEqual([[1006, ""]]);
    expect(registry.size).toBe(0);
  });

  it("refuses new upgrades with 503 while shutting down", async () => {
    const registry = new ConnectionRegistry();
    const app = new Hono();
    app.get("/ws", websocket(WebSocketHandler));
    const upgrade = () => new Response("upgraded");
    const env = { [RUNTIME]: { connections: registry, upgrade } };
    const request = new Request("http://localhost/ws", { headers: upgradeRequestHeaders });
    expect(await (await app.fetch(request.clone(), env)).text()).toBe("upgraded");
    const done = createShutdown(registry, () => {})();
    const refused = await app.fetch(request, env);
    expect([refused.status, await refused.text()]).toEqual([503, "server shutting down"]);
    await done;
  });

  it("marks the registry as shutting down, and a second call returns the same promise", async () => {
    const registry = new ConnectionRegistry();
    const shutdown = createShutdown(registry, () => {});
    const first = shutdown();
    expect(isShuttingDown(registry)).toBe(true);
    expect(shutdown()).toBe(first);
    await first;
  });
});
