/**
 * The demo, served by each runtime's own entry (`deno run mod.ts`, `bun run src/bun.ts`,
 * `wrangler dev` on src/worker.ts, `node dist/src/node.js`): the pages, their client module and the seed's echo
 * socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserModule } from "../../src/client/browser.ts";
import { openClient } from "../helpers/client.ts";
import { entryOf, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";

const runtimes: RuntimeName[] = ["deno", "bun", "workerd", "node"];

describe.each(runtimes)("the demo on %s", (runtime) => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(runtime, entryOf(runtime, "demo"), { readyPath: "/" });
  });
  afterAll(() => server?.stop());

  test("/ serves the echo page, which opens an EdgeSocket to /websocketserver on its own host", async () => {
    const res = await fetch(`${server.httpURL}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('import { EdgeSocket } from "/edgesocket-client.js"');
    expect(html).toContain("new EdgeSocket(url, undefined, options)");
    expect(html).toContain("location.host + path");
    expect(html).toContain('socketURL("/websocketserver")');
  });

  test("/edgesocket-client.js serves the pages' client: edgesocket/client as one ES module", async () => {
    const res = await fetch(`${server.httpURL}/edgesocket-client.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await res.text()).toBe(browserModule);
  });

  test("/websocketserver echoes and logs like the seed's Tornado handler", async () => {
    const client = await openClient(`${server.wsURL}/websocketserver`);
    client.ws.send("hello from the test");
    expect(await client.message()).toBe("hello from the test");
    client.ws.close();
    await client.closed;
    const deadline = Date.now() + 5000;
    while (!server.output().includes("Connection closed") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(server.output()).toContain("New connection");
    expect(server.output()).toContain("Message received: hello from the test");
    expect(server.output()).toContain("Connection closed");
  });

  test("/chat serves the chat page; /chat/:room reaches everyone in the room, not other rooms", async () => {
    const page = await (await fetch(`${server.httpURL}/chat`)).text();
    expect(page).toContain('"/chat/" + encodeURIComponent(room)');
    const room = `demo-${runtime}`;
    const [ann, bob, eve] = await Promise.all([
      openClient(`${server.wsURL}/chat/${room}`),
      openClient(`${server.wsURL}/chat/${room}`),
      openClient(`${server.wsURL}/chat/${room}-other`),
    ]);
    ann.ws.send(JSON.stringify({ name: "ann", text: "hello room" }));
    eve.ws.send(JSON.stringify({ name: "eve", text: "other room" }));
    const expected = [{ system: "ann joined" }, { name: "ann", text: "hello room" }];
    expect([JSON.parse(String(await bob.message(1))), JSON.parse(String(await bob.message(2)))]).toEqual(expected);
    expect([JSON.parse(String(await ann.message(1))), JSON.parse(String(await ann.message(2)))]).toEqual(expected);
    expect(JSON.parse(String(await eve.message(2)))).toEqual({ name: "eve", text: "other room" });
    ann.ws.close();
    expect(JSON.parse(String(await bob.message(3)))).toEqual({ system: "ann left" });
    expect(bob.messages.map(String).some((m) => m.includes("eve"))).toBe(false);
    eve.ws.send("not json");
    expect(JSON.parse(String(await eve.message(3))).system).toMatch(/not sent/); // and the socket stays open
    for (const client of [bob, eve]) client.ws.close();
  });
});
