import { describe, expect, it } from "vitest";
import { ConnectionRegistry } from "../../src/core/registry.ts";
import { Runtime } from "../../src/core/runtime.ts";
import { FakeBufferedTransport, openConnection } from "./fakes.ts";

describe("ConnectionRegistry", () => {
  it("counts and lists connections in the order they opened; a connection leaves once its onClose ran", () => {
    const runtime = new Runtime({ upgrade: () => new Response(null) });
    const registry: ConnectionRegistry = runtime.connections;
    const [a, b, c] = [1, 2, 3].map(() => openConnection(new FakeBufferedTransport(), undefined, runtime));
    expect(registry.size).toBe(3);
    expect([...registry]).toEqual([a!.connection, b!.connection, c!.connection]);
    b!.connection.close();
    expect(registry.size).toBe(3); // closing: its onClose has not run yet
    b!.connection.closed(1000, "");
    expect([...registry]).toEqual([a!.connection, c!.connection]);
    expect(b!.handler.closes).toEqual([[1000, ""]]);
  });

  it("#add is idempotent and #delete ignores a connection it does not hold", () => {
    const registry = new ConnectionRegistry();
    const { connection } = openConnection(new FakeBufferedTransport());
    registry.add(connection);
    registry.add(connection);
    expect(registry.size).toBe(1);
    registry.delete(connection);
    registry.delete(connection);
    expect(registry.size).toBe(0);
  });
});
