/** The JSON example, in memory with edgesocket/testing: `deno test examples/`. */
import assert from "node:assert/strict";
import { connect } from "edgesocket/testing";
import { app, Commands, type InvalidPolicy } from "./json.ts";

async function reply(client: Awaited<ReturnType<typeof connect>>, message: string): Promise<unknown> {
  client.send(message);
  return JSON.parse((await client.nextMessage()) as string);
}

Deno.test("valid commands are answered", async () => {
  const client = await connect(app, { path: "/ws" });
  assert.deepEqual(await reply(client, '{"type":"add","a":1,"b":2}'), { type: "sum", value: 3 });
  assert.deepEqual(await reply(client, '{"type":"say","text":"hi"}'), { type: "said", text: "hi" });
  await client.close();
});

Deno.test("a bad message gets a clear error and the socket stays open", async () => {
  const client = await connect(app, { path: "/ws" });
  assert.deepEqual(await reply(client, "{oops"), { type: "error", error: "the message is not valid JSON" });
  assert.deepEqual(await reply(client, '{"type":"add","a":1,"b":"2"}'), {
    type: "error",
    error: 'b: Invalid type: Expected number but received "2"',
  });
  assert.deepEqual(await reply(client, '{"type":"add","a":1,"b":2}'), { type: "sum", value: 3 });
  assert.equal(client.handler.readyState, 1);
  await client.close();
});

Deno.test("the strict route replies, then closes with 1008", async () => {
  const client = await connect(app, { path: "/strict" });
  assert.deepEqual(await reply(client, '{"type":"say","text":""}'), {
    type: "error",
    error: "text: must not be empty",
  });
  assert.deepEqual(await client.closed, { code: 1008, reason: "invalid message" });
});

Deno.test("the policy is the handler's: 1007 closes with 1007 after the reply", async () => {
  class Payload extends Commands {
    override onInvalid: InvalidPolicy = 1007;
  }
  const client = await connect(Payload);
  assert.deepEqual(await reply(client, '{"type":"add","a":1}'), {
    type: "error",
    error: 'b: Invalid key: Expected "b" but received undefined',
  });
  assert.deepEqual(await client.closed, { code: 1007, reason: "invalid message" });
});
