/**
 * edgesocket/client in workerd (wrangler dev), as an outgoing socket from a Worker: started before its server is
 * up, it retries until the server (the Node demo) listens, then sends what it queued and gets the echo.
 */
import { afterAll, expect, test, vi } from "vitest";
import { entryOf, freePort, type RunningServer, startServer } from "../helpers/runtimes.ts";

const servers: RunningServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.stop())));

test("a Worker's EdgeSocket retries until the server is up, then sends what it queued", async () => {
  const worker = await startServer("workerd", "test/client/fixtures/worker.ts", { readyPath: "/" });
  servers.push(worker);
  const port = await freePort();
  const target = `ws://127.0.0.1:${port}/websocketserver`;
  const answer = fetch(`${worker.httpURL}/?url=${encodeURIComponent(target)}`);
  // The Worker's first attempts find nothing listening (it logs its retries); once the server is up, one gets through.
  await vi.waitUntil(() => worker.output().includes("edgesocket reconnecting: attempt 2"), { timeout: 30_000 });
  servers.push(await startServer("node", entryOf("node", "demo"), { readyPath: "/", port }));
  const { echo, attempts } = await (await answer).json() as { echo: string; attempts: number[] };
  expect(echo).toBe("queued in workerd");
  expect(attempts.length).toBeGreaterThanOrEqual(2);
});
