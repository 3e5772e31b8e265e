// The Node adapter's upgrade listener with apps that answer in each way it must handle: synchronously, through a
// promise, by throwing, by rejecting. Real sockets to a real node:http server started by serve().
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { serve } from "../../src/adapters/node.ts";
import { websocket, WebSocketHandler } from "../../src/index.ts";
import { handshake, openClient, upgradeHeaders } from "../helpers/client.ts";

class Echo extends WebSocketHandler {
  override onMessage(message: string | ArrayBuffer): void {
    this.send(message);
  }
}

const app = new Hono();
app.get("/echo", websocket(Echo));
app.get("/teapot", () => new Response("short and stout", { status: 418 }));
app.get("/later", async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return new Response("answered later", { status: 409 });
});
app.get("/throws", () => {
  throw new Error("thrown by the route");
});
app.get("/rejects", () => Promise.reject(new Error("rejected by the route")));
// Hono answers a route that throws with a 500 itself; an app that is not Hono may throw or reject from fetch.
const fetchApp = {
  fetch(request: Request, env: object) {
    const path = new URL(request.url).pathname;
    if (path === "/fetch-throws") throw new Error("thrown by fetch");
    if (path === "/fetch-rejects") return Promise.reject(new Error("rejected by fetch"));
    return app.fetch(request, env);
  },
};

const server = serve(fetchApp, { port: 0, hostname: "127.0.0.1" });
let base = "";
beforeAll(async () => {
  if (!server.listening) await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.shutdown({ timeout: 1_000 }));
afterEach(() => vi.restoreAllMocks());

async function echoes(): Promise<void> {
  const client = await openClient(`${base.replace("http", "ws")}/echo`);
  client.ws.send("still serving");
  expect(String(await client.message())).toBe("still serving");
  client.ws.close();
}

describe("the Node adapter's answer to an upgrade request", () => {
  it("writes a response the app gives synchronously", async () => {
    const res = await handshake(`${base}/teapot`, { headers: upgradeHeaders() });
    expect(res.status).toBe(418);
    expect(res.body).toBe("short and stout");
  });

  it("writes a response the app gives through a promise", async () => {
    const res = await handshake(`${base}/later`, { headers: upgradeHeaders() });
    expect(res.status).toBe(409);
    expect(res.body).toBe("answered later");
  });

  it("answers 500 when a Hono route throws or rejects, and keeps serving", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {}); // Hono logs the error
    expect((await handshake(`${base}/throws`, { headers: upgradeHeaders() })).status).toBe(500);
    expect((await handshake(`${base}/rejects`, { headers: upgradeHeaders() })).status).toBe(500);
    await echoes();
  });

  for (const path of ["/fetch-throws", "/fetch-rejects"]) {
    it(`drops the socket and logs the error when the app's fetch ${path.slice(7)}, and keeps serving`, async () => {
      const logged = vi.spyOn(console, "error").mockImplementation(() => {});
      await expect(handshake(`${base}${path}`, { headers: upgradeHeaders() })).rejects.toThrow(/socket hang up/);
      expect(logged).toHaveBeenCalledWith("edgesocket: upgrade failed:", expect.any(Error));
      await echoes();
    });
  }
});
