/**
 * The examples in examples/: their own `Deno.test` files (in memory, with edgesocket/testing) pass under
 * `deno test`, and the auth and JSON examples, run as files by a real Deno, behave the same over real sockets.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run, withoutTypeWarnings } from "../checks/run.ts";
import { handshake, openClient } from "../helpers/client.ts";
import { ROOT, type RunningServer, startServer } from "../helpers/runtimes.ts";

test("deno test examples/ runs every example's Deno.test file, the one docs/testing.md shows among them, and all pass", async () => {
  // Type checking is the deno check test's (test/checks/static.test.ts).
  const result = await run("deno", ["test", "--no-check", "--allow-env", "examples/"]);
  const output = withoutTypeWarnings(result.stdout + result.stderr);
  expect(output).toContain("running 1 test from ./examples/echo.test.ts");
  expect(output).toMatch(/ok \| 9 passed \| 0 failed/);
  expect(result.code).toBe(0);
});

test("docs/testing.md shows examples/echo.test.ts as it is", () => {
  const page = readFileSync(join(ROOT, "docs/testing.md"), "utf8");
  expect(page).toContain("```ts\n" + readFileSync(join(ROOT, "examples/echo.test.ts"), "utf8") + "```\n");
});

const upgradeHeaders = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

describe("examples/auth.ts on Deno", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer("deno", "examples/auth.ts", {
      env: { SESSION_SECRET: "real secret", FRONTEND_ORIGINS: "https://app.example.com", SERVICE_TOKEN: "t0ken" },
    });
  });
  afterAll(() => server?.stop());

  async function login(name: string): Promise<string> {
    const response = await fetch(`${server.httpURL}/login`, { method: "POST", body: new URLSearchParams({ name }) });
    expect(response.status).toBe(200);
    return response.headers.get("set-cookie")!.split(";")[0]!;
  }

  test("the session cookie from /login opens /ws from the listed front end; the handler greets the user", async () => {
    const cookie = await login("grace");
    const client = await openClient(`${server.wsURL}/ws`, [], {
      headers: { cookie, origin: "https://app.example.com" },
    });
    expect(await client.message()).toBe("hello grace");
    client.ws.send("hi");
    expect(await client.message()).toBe("grace: hi");
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
  });

  test("without the cookie: 401; from another origin with the cookie: 403", async () => {
    expect((await handshake(`${server.httpURL}/ws`, { headers: upgradeHeaders })).status).toBe(401);
    const cookie = await login("grace");
    const foreign = { ...upgradeHeaders, cookie, origin: "https://evil.example" };
    expect((await handshake(`${server.httpURL}/ws`, { headers: foreign })).status).toBe(403);
  });

  test("a bearer token opens /service/ws", async () => {
    const client = await openClient(`${server.wsURL}/service/ws`, [], { headers: { authorization: "Bearer t0ken" } });
    expect(await client.message()).toBe("hello service");
    client.ws.close();
    await client.closed;
  });
});

describe("examples/json.ts on Deno", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer("deno", "examples/json.ts");
  });
  afterAll(() => server?.stop());

  test("a bad message gets a clear error back and the socket stays open", async () => {
    const client = await openClient(`${server.wsURL}/ws`);
    client.ws.send('{"type":"add","a":"one","b":2}');
    expect(JSON.parse((await client.message()) as string)).toEqual({
      type: "error",
      error: 'a: Invalid type: Expected number but received "one"',
    });
    client.ws.send('{"type":"add","a":1,"b":2}');
    expect(JSON.parse((await client.message()) as string)).toEqual({ type: "sum", value: 3 });
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
  });

  test("on /strict a bad message gets the error, then the close 1008", async () => {
    const client = await openClient(`${server.wsURL}/strict`);
    client.ws.send("not json");
    expect(JSON.parse((await client.message()) as string)).toEqual({
      type: "error",
      error: "the message is not valid JSON",
    });
    expect(await client.closed).toEqual({ code: 1008, reason: "invalid message" });
  });
});
