/** The auth example, in memory with edgesocket/testing: `deno test examples/`. */
import assert from "node:assert/strict";
import { connect, HandshakeRefusedError } from "edgesocket/testing";
import { createApp } from "./auth.ts";

const app = createApp({
  secret: "test secret",
  frontendOrigins: ["https://app.example.com"],
  serviceTokens: new Map([["service-token", { name: "billing" }]]),
});

async function login(name: string): Promise<string> {
  const body = new FormData();
  body.set("name", name);
  const response = await app.request("/login", { method: "POST", body });
  assert.equal(response.status, 200);
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

async function refusal(promise: Promise<unknown>): Promise<number> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof HandshakeRefusedError);
  return error.status;
}

Deno.test("a logged-in user from the listed front end connects, and the handler knows who it is", async () => {
  const cookie = await login("ada");
  const client = await connect(app, { path: "/ws", headers: { cookie }, origin: "https://app.example.com" });
  assert.equal(await client.nextMessage(), "hello ada");
  client.send("hi");
  assert.equal(await client.nextMessage(), "ada: hi");
  await client.close();
});

Deno.test("no session cookie, or a forged one: 401 before any upgrade", async () => {
  assert.equal(await refusal(connect(app, { path: "/ws" })), 401);
  const forged = "session=ada.bm90IGEgc2lnbmF0dXJl";
  assert.equal(await refusal(connect(app, { path: "/ws", headers: { cookie: forged } })), 401);
});

Deno.test("a page on an origin not listed gets 403, even with a valid cookie", async () => {
  const cookie = await login("ada");
  const status = await refusal(connect(app, { path: "/ws", headers: { cookie }, origin: "https://evil.example" }));
  assert.equal(status, 403);
});

Deno.test("a service connects with its bearer token; a wrong token gets 401", async () => {
  const client = await connect(app, { path: "/service/ws", headers: { authorization: "Bearer service-token" } });
  assert.equal(await client.nextMessage(), "hello billing");
  await client.close();
  const wrong = connect(app, { path: "/service/ws", headers: { authorization: "Bearer nope" } });
  assert.equal(await refusal(wrong), 401);
});
