// examples/echo.test.ts: run with `deno test examples/`
import assert from "node:assert/strict";
import { connect } from "edgesocket/testing"; // JSR: "@edgesocket/edgesocket/testing"
import { MyWebSocketServer } from "./echo.ts";

Deno.test("echoes text and binary, and onClose runs once the client closes", async () => {
  const client = await connect(MyWebSocketServer);
  client.send("hi");
  assert.equal(await client.nextMessage(), "hi");
  client.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(new Uint8Array(await client.nextMessage() as ArrayBuffer), new Uint8Array([1, 2, 3]));
  assert.deepEqual(await client.close(), { code: 1000, reason: "" });
});
