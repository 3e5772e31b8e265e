import { describe, expect, it } from "vitest";
import type { Transport } from "../../src/core/connection.ts";
import { ConnectionRegistry } from "../../src/core/registry.ts";
import { createShutdown, isShuttingDown, SHUTDOWN_CLOSE } from "../../src/core/shutdown.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

/** A fake socket whose peer answers a close frame at once, as a live client does. */
function answeringTransport(onClose: (code: number, reason: string) => void): Transport {
  return { send() {}, close: (code = 1005, reason = "") => queueMicrotask(() => onClose(code, reason)) };
}

describe("#shutdown", () => {
  it("stops accepting, closes every socket with 1001 and resolves once every onClose ran", async () => {
    const registry = new ConnectionRegistry();
    const handlers = Array.from({ length: 3 }, () => {
      let opened: ReturnType<typeof openConnection>;
      const transport = answeringTransport((code, reason) => opened.connection.closed(code, reason));
      opened = openConnection(transport, undefined, registry);
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

  it("marks the registry as shutting down, and a second call returns the same promise", async () => {
    const registry = new ConnectionRegistry();
    const shutdown = createShutdown(registry, () => {});
    const first = shutdown();
    expect(isShuttingDown(registry)).toBe(true);
    expect(shutdown()).toBe(first);
    await first;
  });
});
