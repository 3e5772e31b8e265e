import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, startCommand } from "../helpers/runtimes.ts";

// The tests' servers start on random free ports, so another test's server can take a port between the check and
// the bind (wrangler then fails with "Address already in use"). A server counts as started only once its own
// process listens on the port, not when whatever holds the port answers.
let occupant: Server;
let port = 0;
beforeAll(async () => {
  port = await freePort();
  occupant = createServer((_request, response) => response.end("ok"));
  await new Promise<void>((resolve) => occupant.listen(port, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => occupant.close(() => resolve())));

it("does not take another process that answers on the port for the server it started", async () => {
  const sleeper = () => [process.execPath, ["-e", "setTimeout(() => {}, 30_000)"]] as [string, string[]];
  const started = startCommand(sleeper, { port, startupTimeout: 1_500 });
  await expect(started).rejects.toThrow(/was not ready/);
});

it("takes a server that listens on the port itself", async () => {
  const listener = (chosen: number) =>
    [process.execPath, [
      "-e",
      `require("node:http").createServer((q, s) => s.end("ok")).listen(${chosen}, "127.0.0.1")`,
    ]] as [string, string[]];
  const server = await startCommand(listener, { startupTimeout: 10_000 });
  expect(server.port).not.toBe(port);
  await server.stop();
});
