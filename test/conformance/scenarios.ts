/**
 * One conformance suite, run unchanged against every runtime: each `<runtime>.test.ts`
 * calls `runConformance(name)`, which serves `test/fixtures/app.ts` on that real runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type Client,
  handshake,
  maskedFrame,
  openClient,
  pollJSON,
  sendRawFrame,
  upgradeHeaders,
} from "../helpers/client.ts";
import { entryOf, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";

/**
 * What the runtime does itself, below the core, where it differs from the core's rules.
 * The suite checks the documented behaviour (see "Known runtime limits" in the README).
 */
export interface RuntimeLimits {
  /**
   * Statuses the client gets where the runtime's own HTTP layer answers (or rewrites) an
   * upgrade request before the core sees it. Absent: the core's status.
   */
  handshake?: { postUpgrade?: number; badKey?: number; badVersion?: number };
  /** The runtime drops the `Upgrade` header from a 426 response (hop-by-hop). */
  stripsUpgradeHeader?: boolean;
  /** The runtime negotiates permessage-deflate when the client offers it (workerd). Absent: no extension. */
  negotiatesDeflate?: boolean;
  /** Close code sent for a text frame that is not valid UTF-8; `"replaced"` when delivered with U+FFFD. */
  invalidUtf8: number | null | "replaced";
  /** Close code sent for a frame with a reserved bit set; `null` for a drop without a close frame. */
  reservedBits: number | null;
  /**
   * The code `onClose` gets on the server for a malformed frame (invalid UTF-8, reserved bits).
   * Absent: the code the client got. `false`: the runtime's proxy answered the frame and the server's
   * socket is not told (workerd under `wrangler dev`), so there is no server-side code to check.
   */
  malformedOnClose?: number | false;
  /**
   * The code `onClose` gets for a message over the limit, when the runtime itself closes with 1009
   * (Bun, `ws`: it then reports 1006). Absent: 1009.
   */
  oversizeOnClose?: number;
}

interface Stats {
  opened: number;
  closed: number;
  codes: number[];
  errors: string[];
}

const MiB = 1024 * 1024;
let nextId = 0;

export function runConformance(runtime: RuntimeName, limits: RuntimeLimits): void {
  describe(`conformance on ${runtime}`, () => {
    let server: RunningServer;
    const clients: Client[] = [];
    const open = async (path: string, protocols?: string[]) => {
      const client = await openClient(`${server.wsURL}${path}`, protocols);
      clients.push(client);
      return client;
    };
    const stats = (id: string, accept: (s: Stats) => boolean = () => true) =>
      pollJSON<Stats>(`${server.httpURL}/stats/${id}`, (s) => s !== null && accept(s));
    const trackedId = () => `${runtime}-${process.pid}-${nextId++}`;

    beforeAll(async () => {
      server = await startServer(runtime, entryOf(runtime, "fixture"));
    });
    afterAll(async () => {
      for (const client of clients) client.ws.terminate();
      await server?.stop();
    });

    describe("echo", () => {
      test("text comes back as text", async () => {
        const client = await open("/echo");
        client.ws.send("hello, edgesocket");
        expect(await client.message()).toBe("hello, edgesocket");
      });

      test("binary comes back as the same bytes, as binary", async () => {
        const client = await open("/echo");
        const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
        client.ws.send(bytes);
        expect(await client.message()).toEqual(bytes);
      });

      test("an ArrayBuffer, and a Uint8Array and a DataView over part of a larger buffer, each send only their own bytes", async () => {
        const client = await open("/views");
        client.ws.send("send");
        const expected = Buffer.from([1, 2, 3]);
        for (const n of [1, 2, 3]) expect(await client.message(n)).toEqual(expected);
      });

      test("empty text and empty binary messages come back", async () => {
        const client = await open("/echo");
        client.ws.send("");
        client.ws.send(Buffer.alloc(0));
        expect(await client.message(1)).toBe("");
        expect(await client.message(2)).toEqual(Buffer.alloc(0));
      });

      test("a message of exactly the 1 MiB default limit comes back whole", async () => {
        const client = await open("/echo");
        const big = Buffer.alloc(MiB, 7);
        big[MiB - 1] = 9;
        client.ws.send(big);
        expect(Buffer.compare((await client.message()) as Buffer, big)).toBe(0);
      });
    });

    describe("message size limit", () => {
      test(`a message over the 1 MiB default closes with 1009; onClose gets ${limits.oversizeOnClose ?? 1009}`, async () => {
        const id = trackedId();
        const client = await open(`/tracked/${id}`);
        client.ws.send(Buffer.alloc(MiB + 1));
        expect((await client.closed).code).toBe(1009);
        expect(await stats(id, (s) => s.closed >= 1)).toMatchObject({
          closed: 1,
          codes: [limits.oversizeOnClose ?? 1009],
        });
      });

      test("a route's own limit: 1024 bytes pass, 1025 close with 1009 (1/2 binary)", async () => {
        const client = await open("/small");
        client.ws.send(Buffer.alloc(1024, 1));
        expect(((await client.message()) as Buffer).length).toBe(1024);
        client.ws.send(Buffer.alloc(1025, 1));
        expect((await client.closed).code).toBe(1009);
      });

      test("a route's limit above the default holds: 1.5 MiB passes, 2 MiB + 1 closes with 1009", async () => {
        const client = await open("/large");
        const big = Buffer.alloc(1.5 * MiB, 3);
        client.ws.send(big);
        expect(Buffer.compare((await client.message()) as Buffer, big)).toBe(0);
        client.ws.send(Buffer.alloc(2 * MiB + 1));
        expect((await client.closed).code).toBe(1009);
      });

      test("a route's own limit counts text in UTF-8 bytes (2/2 text)", async () => {
        const client = await open("/small");
        client.ws.send("é".repeat(513)); // 1026 bytes in 513 characters
        expect((await client.closed).code).toBe(1009);
      });
    });

    describe("handshake refusals", () => {
      test("a method other than GET gets 405 with Allow: GET (1/2 plain POST)", async () => {
        const res = await fetch(`${server.httpURL}/echo`, { method: "POST" });
        expect(res.status).toBe(405);
        expect(res.headers.get("allow")).toBe("GET");
        expect(await res.text()).toMatch(/GET/);
      });

      test(`a POST with upgrade headers gets ${limits.handshake?.postUpgrade ?? 405} (2/2)`, async () => {
        const res = await handshake(`${server.httpURL}/echo`, { method: "POST", headers: upgradeHeaders() });
        expect(res.status).toBe(limits.handshake?.postUpgrade ?? 405);
      });

      test("a plain GET gets 426 with Upgrade: websocket", async () => {
        const res = await fetch(`${server.httpURL}/echo`);
        expect(res.status).toBe(426);
        expect(res.headers.get("upgrade")).toBe(limits.stripsUpgradeHeader ? null : "websocket");
        expect(await res.text()).toMatch(/WebSocket/);
      });

      test("a missing Sec-WebSocket-Key gets 400 (1/2)", async () => {
        const headers = upgradeHeaders();
        delete headers["sec-websocket-key"];
        const res = await handshake(`${server.httpURL}/echo`, { headers });
        expect(res.status).toBe(400);
        expect(res.body).toMatch(/Sec-WebSocket-Key/);
      });

      test(`a key that is not 16 bytes of base64 gets ${limits.handshake?.badKey ?? 400} (2/2)`, async () => {
        const res = await handshake(`${server.httpURL}/echo`, {
          headers: upgradeHeaders({ "sec-websocket-key": "c2hvcnQ=" }),
        });
        expect(res.status).toBe(limits.handshake?.badKey ?? 400);
        if (res.status === 400) expect(res.body).toMatch(/Sec-WebSocket-Key/);
      });

      test(`Sec-WebSocket-Version other than 13 gets ${limits.handshake?.badVersion ?? 426}`, async () => {
        const res = await handshake(`${server.httpURL}/echo`, {
          headers: upgradeHeaders({ "sec-websocket-version": "8" }),
        });
        expect(res.status).toBe(limits.handshake?.badVersion ?? 426);
        if (res.status === 426) expect(res.headers["sec-websocket-version"]).toBe("13");
      });
    });

    describe("origin", () => {
      test("a foreign origin is refused with 403", async () => {
        const res = await handshake(`${server.httpURL}/echo`, {
          headers: upgradeHeaders({ origin: "https://evil.example" }),
        });
        expect(res.status).toBe(403);
        expect(res.body).toMatch(/origin/);
      });

      test("the request's own host is allowed", async () => {
        const res = await handshake(`${server.httpURL}/echo`, {
          headers: upgradeHeaders({ origin: server.httpURL }),
        });
        expect(res.status).toBe(101);
      });

      test("a request without Origin is allowed", async () => {
        expect((await handshake(`${server.httpURL}/echo`, { headers: upgradeHeaders() })).status).toBe(101);
      });

      test("an origin in allowedOrigins is allowed, others still refused", async () => {
        const allowed = await handshake(`${server.httpURL}/origin`, {
          headers: upgradeHeaders({ origin: "https://allowed.example" }),
        });
        const refused = await handshake(`${server.httpURL}/origin`, {
          headers: upgradeHeaders({ origin: "https://other.example" }),
        });
        expect([allowed.status, refused.status]).toEqual([101, 403]);
      });
    });

    describe("subprotocol", () => {
      test("only the protocol selectSubprotocol chose is sent back (1/2 spaced list)", async () => {
        const res = await handshake(`${server.httpURL}/protocol`, {
          headers: upgradeHeaders({ "sec-websocket-protocol": "chat.v1, chat.v2" }),
        });
        expect(res.status).toBe(101);
        expect(res.headers["sec-websocket-protocol"]).toBe("chat.v2");
      });

      test("only the protocol selectSubprotocol chose is sent back (2/2 list without spaces)", async () => {
        const client = await open("/protocol", ["chat.v1", "chat.v2"]);
        expect(client.ws.protocol).toBe("chat.v2");
        expect(await client.message()).toBe("protocol=chat.v2");
      });

      test("no protocol header when the handler chooses none", async () => {
        const res = await handshake(`${server.httpURL}/protocol`, {
          headers: upgradeHeaders({ "sec-websocket-protocol": "x, y" }),
        });
        expect(res.status).toBe(101);
        expect(res.headers["sec-websocket-protocol"]).toBeUndefined();
      });

      test("no protocol header by default, even when the client offers some", async () => {
        const res = await handshake(`${server.httpURL}/echo`, {
          headers: upgradeHeaders({ "sec-websocket-protocol": "a, b" }),
        });
        expect(res.status).toBe(101);
        expect(res.headers["sec-websocket-protocol"]).toBeUndefined();
      });
    });

    describe("extensions", () => {
      test(
        limits.negotiatesDeflate
          ? "permessage-deflate offered: the runtime negotiates it, and compressed messages echo"
          : "permessage-deflate offered: no extension is negotiated",
        async () => {
          const res = await handshake(`${server.httpURL}/echo`, {
            headers: upgradeHeaders({ "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" }),
          });
          expect(res.status).toBe(101);
          const extensions = res.headers["sec-websocket-extensions"];
          if (!limits.negotiatesDeflate) {
            expect(extensions).toBeUndefined();
            return;
          }
          expect(extensions).toMatch(/^permessage-deflate/);
          const client = await openClient(`${server.wsURL}/echo`, undefined, { perMessageDeflate: true });
          clients.push(client);
          expect(client.ws.extensions).toMatch(/permessage-deflate/);
          const text = "compressible ".repeat(1000);
          client.ws.send(text);
          expect(await client.message()).toBe(text);
        },
      );
    });

    describe("handler context", () => {
      test("route params reach open() and middleware values reach this.context", async () => {
        const client = await openClient(`${server.wsURL}/params/lobby`, undefined, {
          headers: { authorization: "Bearer alice" },
        });
        clients.push(client);
        expect(JSON.parse((await client.message()) as string)).toEqual({ room: "lobby", user: "alice" });
      });
    });

    describe("errors in hooks", () => {
      test("a sync throw in onMessage closes that socket with 1011; others keep working", async () => {
        const bystander = await open("/echo");
        const id = trackedId();
        const client = await open(`/tracked/${id}`);
        client.ws.send("throw");
        expect((await client.closed).code).toBe(1011);
        bystander.ws.send("still here");
        expect(await bystander.message()).toBe("still here");
        const seen = await stats(id, (s) => s.closed === 1);
        expect(seen.errors).toEqual(["thrown by onMessage"]);
      });

      test("a rejected async onMessage closes that socket with 1011", async () => {
        const id = trackedId();
        const client = await open(`/tracked/${id}`);
        client.ws.send("reject");
        expect((await client.closed).code).toBe(1011);
        expect((await stats(id, (s) => s.closed === 1)).errors).toEqual(["rejected by onMessage"]);
      });

      test("a throw in open closes with 1011 and reaches onError", async () => {
        const id = trackedId();
        const client = await open(`/throw-in-open/${id}`);
        expect((await client.closed).code).toBe(1011);
        expect(await stats(id, (s) => s.closed >= 1)).toMatchObject({
          opened: 1,
          closed: 1,
          codes: [1011],
          errors: ["thrown by open"],
        });
      });

      test("the server keeps accepting connections after handler errors", async () => {
        const client = await open("/echo");
        client.ws.send("after errors");
        expect(await client.message()).toBe("after errors");
      });
    });

    describe("ordering", () => {
      test("messages that arrive while open runs wait for it; 10,000 pipelined messages stay in order", async () => {
        const id = trackedId();
        const client = await open(`/gated/${id}`);
        expect(await client.message()).toBe("opening");
        const count = 10_000;
        for (let i = 0; i < count; i++) client.ws.send(String(i));
        // The runtime answers a ping after reading every frame before it: the messages have arrived.
        await new Promise<void>((resolve) => (client.ws.once("pong", () => resolve()), client.ws.ping()));
        const release = await fetch(`${server.httpURL}/release/${id}`, { method: "POST" });
        expect(await release.json()).toEqual({ waiting: true }); // open was still running
        await client.message(count + 1);
        expect(client.messages).toEqual(["opening", ...Array.from({ length: count }, (_, i) => String(i))]);
      });
    });

    describe("concurrency", () => {
      test("500 concurrent connections each get their own echo", async () => {
        const batch: Client[] = [];
        for (let start = 0; start < 500; start += 100) {
          batch.push(...(await Promise.all(Array.from({ length: 100 }, () => open("/echo")))));
        }
        batch.forEach((client, i) => client.ws.send(`client ${i}`));
        const echoes = await Promise.all(batch.map((client) => client.message()));
        expect(echoes).toEqual(batch.map((_, i) => `client ${i}`));
        for (const client of batch) client.ws.close();
        await Promise.all(batch.map((client) => client.closed));
      });
    });

    describe("onClose runs exactly once", () => {
      // A round trip on a connection opened after the first onClose: a second one would have come by then.
      const settle = async () => {
        const later = await open("/echo");
        later.ws.send("after the close");
        expect(await later.message()).toBe("after the close");
      };

      test("after the client closes (1/4)", async () => {
        const id = trackedId();
        const client = await open(`/tracked/${id}`);
        await client.message();
        client.ws.close(1000, "bye");
        await client.closed;
        await stats(id, (s) => s.closed >= 1);
        await settle();
        expect(await stats(id)).toMatchObject({ opened: 1, closed: 1, codes: [1000] });
      });

      test("after the server closes (2/4)", async () => {
        const id = trackedId();
        const client = await open(`/tracked/${id}`);
        client.ws.send("close");
        expect(await client.closed).toEqual({ code: 4001, reason: "closed by server" });
        await stats(id, (s) => s.closed >= 1);
        await settle();
        expect(await stats(id)).toMatchObject({ opened: 1, closed: 1, codes: [4001] });
      });

      test("after a TCP reset by the client (3/4)", async () => {
        const id = trackedId();
        const client = await open(`/tracked/${id}`);
        await client.message();
        (client.ws as unknown as { _socket: import("node:net").Socket })._socket.resetAndDestroy();
        await stats(id, (s) => s.closed >= 1);
        await settle();
        expect(await stats(id)).toMatchObject({ opened: 1, closed: 1, codes: [1006] });
      });

      test("after a handler error (4/4)", async () => {
        const id = trackedId();
        const client = await open(`/tracked/${id}`);
        client.ws.send("throw");
        await client.closed;
        await stats(id, (s) => s.closed >= 1);
        await settle();
        expect((await stats(id)).closed).toBe(1);
      });
    });

    describe("malformed frames (the runtime's own handling)", () => {
      const healthy = async () => {
        const client = await open("/echo");
        client.ws.send("ok");
        return client.message();
      };

      /** Sends `frame` on a tracked socket; checks the client's close code, then the code onClose got. */
      const closesOn = async (frame: Buffer, code: number | null) => {
        const id = trackedId();
        expect(await sendRawFrame("127.0.0.1", server.port, `/tracked/${id}`, frame)).toBe(code);
        if (limits.malformedOnClose === false) return;
        const onClose = limits.malformedOnClose ?? code ?? 1006;
        expect(await stats(id, (s) => s.closed >= 1)).toMatchObject({ opened: 1, closed: 1, codes: [onClose] });
      };

      test(`a text frame with invalid UTF-8: ${describeOutcome(limits.invalidUtf8, limits.malformedOnClose)}`, async () => {
        const frame = maskedFrame(0x81, Buffer.from([0x68, 0xc3, 0x28]));
        if (limits.invalidUtf8 === "replaced") {
          const client = await open("/echo");
          const raw = client.ws as unknown as { _socket: import("node:net").Socket };
          raw._socket.write(frame);
          expect(await client.message()).toBe("h\uFFFD(");
        } else {
          await closesOn(frame, limits.invalidUtf8);
        }
        expect(await healthy()).toBe("ok");
      });

      test(`a frame with a reserved bit set: ${describeOutcome(limits.reservedBits, limits.malformedOnClose)}`, async () => {
        await closesOn(maskedFrame(0x81 | 0x40, Buffer.from("hi")), limits.reservedBits);
        expect(await healthy()).toBe("ok");
      });
    });
  });
}

function describeOutcome(outcome: number | null | "replaced", onClose: number | false | undefined): string {
  if (outcome === "replaced") return "delivered with U+FFFD (runtime limit)";
  const server = onClose === false ? ", the worker is not told" : `, onClose gets ${onClose ?? outcome ?? 1006}`;
  if (outcome === null) return `connection dropped without a close frame (runtime limit)${server}`;
  return `closed with ${outcome}${server}`;
}
