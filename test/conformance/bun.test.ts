import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openClient } from "../helpers/client.ts";
import { entryOf, type RunningServer, startServer } from "../helpers/runtimes.ts";
import { runRooms } from "./rooms.ts";
import { runConformance } from "./scenarios.ts";

runConformance("bun", { invalidUtf8: 1007, reservedBits: 1002, malformedOnClose: 1006 });
runRooms("bun");

// Without the option, Bun allows the largest route's limit: the suite's /large route (2 MiB) passes 1.5 MiB above.
describe("Bun's server-wide serve(app, { maxMessageSize })", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer("bun", entryOf("bun", "fixture"), { env: { MAX_MESSAGE_SIZE: "4096" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("maxMessageSize 4096 caps every route, even one that allows 2 MiB: 4096 bytes pass, 4097 close with 1009", async () => {
    const client = await openClient(`${server.wsURL}/large`);
    client.ws.send(Buffer.alloc(4096, 1));
    expect(((await client.message()) as Buffer).length).toBe(4096);
    client.ws.send(Buffer.alloc(4097, 1));
    const outcome = await Promise.race([client.closed, client.message(2).then(() => "echoed")]);
    expect(outcome).toMatchObject({ code: 1009 });
  });
});
