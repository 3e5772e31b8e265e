/**
 * Two servers in one process share no state: each keeps its own limits, heartbeat and shutdown, and a route
 * added to a server after it started serving keeps its own `maxMessageSize` (on Bun too, whose limit is
 * server-wide). workerd runs each Worker in its own process under `wrangler dev`, so it has no such case.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { STRICT_SHUTDOWN } from "../fixtures/two-servers.ts";
import { type Client, openClient, openDeafClient } from "../helpers/client.ts";
import { freePort, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";

const ENTRY: Record<Exclude<RuntimeName, "workerd">, string> = {
  deno: "test/fixtures/two-servers-deno.ts",
  bun: "test/fixtures/two-servers-bun.ts",
  node: "dist/test/fixtures/two-servers-node.js",
};

describe.each(Object.keys(ENTRY) as (keyof typeof ENTRY)[])("two servers in one %s process", (runtime) => {
  let server: RunningServer;
  let strictURL: string;
  let looseURL: string;

  beforeAll(async () => {
    const loosePort = await freePort();
    server = await startServer(runtime, ENTRY[runtime], { env: { PORT2: String(loosePort) } });
    strictURL = `ws://127.0.0.1:${server.port}`;
    looseURL = `ws://127.0.0.1:${loosePort}`;
    await answering(`http://127.0.0.1:${loosePort}/health`);
  });

  afterAll(async () => {
    await server?.stop();
  });

  test("each server applies its own maxMessageSize; a route added after serve() keeps its 2 MiB", async () => {
    const strict = await openClient(`${strictURL}/ws`);
    const loose = await openClient(`${looseURL}/ws`);
    const late = await openClient(`${looseURL}/late`);
    loose.ws.send("x".repeat(2000));
    expect(await loose.message()).toHaveLength(2000);
    late.ws.send("y".repeat(1536 * 1024));
    expect(await late.message()).toHaveLength(1536 * 1024);
    strict.ws.send("z".repeat(2000));
    expect((await strict.closed).code).toBe(1009);
    loose.ws.send("still served");
    expect(await loose.message()).toBe("still served");
    for (const client of [loose, late]) client.ws.close();
  });

  test("each server has its own heartbeat: a silent peer is dropped by the strict one only", async () => {
    const host = "127.0.0.1";
    const onStrict = await openDeafClient(host, server.port, "/ws");
    const onLoose = await openDeafClient(host, Number(new URL(looseURL).port), "/ws");
    await onStrict.closed; // within 2 s idle timeout; the test's own timeout bounds it
    const loose = await openClient(`${looseURL}/ws`);
    loose.ws.send("after the strict server dropped its silent peer");
    expect(await loose.message()).toBe("after the strict server dropped its silent peer");
    let looseDeafClosed = false;
    void onLoose.closed.then(() => (looseDeafClosed = true));
    expect([looseDeafClosed, onLoose.pings()]).toEqual([false, 0]);
    onLoose.destroy();
    loose.ws.close();
  });

  test("shutting one server down closes its sockets only; the other keeps serving and accepting", async () => {
    const strict = await openClient(`${strictURL}/ws`);
    const loose = await openClient(`${looseURL}/ws`);
    await fetch(`http://127.0.0.1:${server.port}/shutdown`).then((response) => response.text());
    expect(await strict.closed).toEqual(STRICT_SHUTDOWN);
    await expect(openClient(`${strictURL}/ws`)).rejects.toThrow();
    loose.ws.send("after the other shut down");
    expect(await loose.message()).toBe("after the other shut down");
    const fresh: Client = await openClient(`${looseURL}/ws`);
    fresh.ws.send("new connection");
    expect(await fresh.message()).toBe("new connection");
    for (const client of [loose, fresh]) client.ws.close();
  });
});

/** Resolves once `url` answers (the second server of the process listens a moment after the first). */
async function answering(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer`);
}
