// `@hono/node-server` replaces the global `Request` with a subclass of undici's when a server starts. An upgrade
// request made after that must still answer every member of a Request: this file replaces the global first, as a
// second `@hono/node-server` server in the same process would, then loads the module.
import { getRequestListener } from "@hono/node-server";
import type { IncomingMessage } from "node:http";
import { expect, it } from "vitest";

const undiciRequest = globalThis.Request;
getRequestListener(() => new Response(null));
const { RequestUrls, toRequest } = await import("../../src/adapters/node-request.ts");

it("answers every member of a Request after @hono/node-server replaced the global Request", async () => {
  expect(globalThis.Request).not.toBe(undiciRequest);
  const made = {
    method: "GET",
    url: "/rooms/a",
    headers: { host: "example.test" },
    rawHeaders: ["Host", "example.test", "Upgrade", "websocket"],
  } as unknown as IncomingMessage; // made up: only these four members are read
  const request = toRequest(made, new RequestUrls());
  expect(request.url).toBe("http://example.test/rooms/a");
  expect(request.headers.get("upgrade")).toBe("websocket");
  expect(request.signal).toBeInstanceOf(AbortSignal);
  expect(await request.text()).toBe("");
  expect(request.clone().url).toBe("http://example.test/rooms/a");
});
