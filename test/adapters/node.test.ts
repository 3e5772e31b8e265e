// The Node adapter's upgrade listener with apps that answer in each way it must handle: synchronously, through a
// promise, by throwing, by rejecting. Real sockets to a real node:http server started by serve().
import { Hono } from "hono";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { serve } from "../../src/adapters/node.ts";
import { websocket, WebSocketHandler } from "../../src/index.ts";
import { handshake, openClient, upgradeHeaders } from "../helpers/client.ts";

class Echo extends WebSocketHandler {
  override onMessage(message: string | ArrayBuffer): void {
    this.send(message);
  }
}

/** For each message `count size`, sends `count` messages of `size` bytes in one turn, then what `send` returned. */
class Burst extends WebSocketHandler {
  override onMessage(message: string | ArrayBuffer): void {
    const [count, size] = String(message).split(" ").map(Number) as [number, number];
    const returned: boolean[] = [];
    for (let i = 0; i < count; i++) returned.push(this.send(String(i % 10).repeat(size)));
    this.send(JSON.stringify(returned));
  }
}

/** How many 10 KiB messages each `Hose` sent in one turn before `send` returned false (or the bound). */
const hosed: number[] = [];
const HOSE_BOUND = 2_000;

/** Sends 10 KiB messages in one turn while `send` returns true, at most {@link HOSE_BOUND}. */
class Hose extends WebSocketHandler {
  override onMessage(): void {
    const chunk = "x".repeat(10 * 1024);
    let sent = 0;
    while (sent < HOSE_BOUND && this.send(chunk)) sent++;
    hosed.push(sent);
  }
}

/** Sends 100 messages and closes with 4000, all in one turn. */
class SendThenClose extends WebSocketHandler {
  override onMessage(): void {
    for (let i = 0; i < 100; i++) this.send(`last words ${i}`);
    this.close(4000, "done");
  }
}

const app = new Hono();
app.get("/echo", websocket(Echo));
app.get("/hose", websocket(Hose));
app.get("/send-then-close", websocket(SendThenClose));
app.get("/burst", websocket(Burst, { highWaterMark: 512, maxBufferedAmount: 1024 }));
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

/** The server's writes to each upgraded socket by the client's port, counted through the socket's stream methods. */
const writesTo = new Map<number, { count: number }>();
server.prependListener("upgrade", (_request: unknown, socket: Socket) => {
  const writes = { count: 0 };
  writesTo.set(socket.remotePort!, writes);
  const stream = socket as unknown as Record<"_write" | "_writev", (...args: unknown[]) => void>;
  for (const method of ["_write", "_writev"] as const) {
    const write = stream[method]!.bind(socket);
    stream[method] = (...args: unknown[]) => {
      writes.count++;
      write(...args);
    };
  }
});

/** A client of `path`, its TCP socket, and the count of the server's writes to it after the handshake. */
async function countedClient(path: string) {
  const client = await openClient(`${base.replace("http", "ws")}${path}`);
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  const writes = writesTo.get(socket.localPort!)!;
  writes.count = 0;
  return { client, socket, writes };
}

describe("the Node adapter's writes: what one turn of the event loop sends leaves together", () => {
  it("the replies to 50 messages that arrive in one read leave in two writes, in order", async () => {
    const { client, socket, writes } = await countedClient("/echo");
    // About 1 KB in one corked write: one loopback segment, so the server reads the 50 messages at once.
    socket.cork();
    for (let i = 0; i < 50; i++) client.ws.send(`message ${i}`);
    socket.uncork();
    await client.message(50);
    expect(client.messages).toEqual(Array.from({ length: 50 }, (_, i) => `message ${i}`));
    // The first reply at once, the other 49 together when the turn ends; ws alone writes each reply on its own.
    expect(writes.count).toBe(2);
    client.ws.close();
  });

  it("a turn's batch is not counted as waiting: 20 sends of 100 B past maxBufferedAmount 1024 all return true", async () => {
    const { client } = await countedClient("/burst");
    client.ws.send("20 100");
    // Counted as waiting, the batch would pass maxBufferedAmount and close the socket with 1008 before the answer.
    const answer = await Promise.race([client.message(21), client.closed.then((c) => `closed ${c.code}`)]);
    const returned = JSON.parse(String(answer));
    expect(returned).toEqual(Array(20).fill(true));
    expect(client.messages.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => String(i % 10).repeat(100)));
    client.ws.close();
    expect((await client.closed).code).toBe(1005);
  });

  it("a batch past 16 KiB is written as it grows: 64 sends of 1 KiB in one turn take several writes, and all arrive", async () => {
    const { client, writes } = await countedClient("/burst");
    client.ws.send("64 1024");
    await client.message(65);
    expect(client.messages.slice(0, 64)).toEqual(Array.from({ length: 64 }, (_, i) => String(i % 10).repeat(1024)));
    expect(writes.count).toBeGreaterThanOrEqual(4);
    client.ws.close();
  });

  it("a peer that reads nothing: a handler sending 10 KiB at a time in one turn still sees send turn false", async () => {
    const { client, socket } = await countedClient("/hose");
    socket.pause();
    const before = hosed.length;
    client.ws.send("go");
    await vi.waitFor(() => expect(hosed.length).toBe(before + 1), { timeout: 10_000 });
    // Each batch is written past 16 KiB, so what the kernel does not take is counted; unbatched, the bound is hit.
    expect(hosed.at(-1)).toBeGreaterThan(0);
    expect(hosed.at(-1)).toBeLessThan(HOSE_BOUND);
    client.ws.terminate();
  });

  it("messages sent before a close in the same turn all arrive before the close frame", async () => {
    const { client } = await countedClient("/send-then-close");
    client.ws.send("go");
    expect(await client.closed).toEqual({ code: 4000, reason: "done" });
    expect(client.messages).toEqual(Array.from({ length: 100 }, (_, i) => `last words ${i}`));
  });
});
