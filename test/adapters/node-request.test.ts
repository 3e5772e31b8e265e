import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestUrls, toRequest } from "../../src/adapters/node-request.ts";

// A real node:http server: each test sends an upgrade request over a socket and gets its IncomingMessage.
const server = createServer();
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

function upgradeRequest(head: string): Promise<IncomingMessage> {
  return new Promise((resolve) => {
    server.once("upgrade", (incoming, socket) => {
      socket.destroy();
      resolve(incoming);
    });
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    socket.on("error", () => {});
  });
}

const HEAD = "GET /rooms/a?x=1 HTTP/1.1\r\nHost: example.test:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Cookie: a=1\r\nX-Twice: one\r\nX-Twice: two\r\n\r\n";

describe("toRequest", () => {
  it("is a Request with the method, absolute URL and every header of the upgrade request", async () => {
    const request = toRequest(await upgradeRequest(HEAD), new RequestUrls());
    expect(request).toBeInstanceOf(Request);
    expect(request.method).toBe("GET");
    expect(request.url).toBe("http://example.test:8080/rooms/a?x=1");
    expect(request.headers.get("cookie")).toBe("a=1");
    expect(request.headers.get("x-twice")).toBe("one, two");
    expect(request.headers).toBe(request.headers);
  });

  it("builds the full Request for any other member: body, signal, clone", async () => {
    const request = toRequest(await upgradeRequest(HEAD), new RequestUrls());
    expect(request.body).toBeNull();
    expect(request.signal).toBeInstanceOf(AbortSignal);
    expect(await request.text()).toBe("");
    const copy = request.clone();
    expect(copy.url).toBe(request.url);
    expect(copy.headers.get("x-twice")).toBe("one, two");
  });

  it("throws on a Host that makes no URL, as new Request would", async () => {
    const incoming = await upgradeRequest(
      "GET / HTTP/1.1\r\nHost: a b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    expect(() => toRequest(incoming, new RequestUrls())).toThrow(TypeError);
  });
});

/** The `Headers` the Fetch standard makes of Node's raw headers: what the request's headers must answer like. */
function fetchHeadersOf(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
    headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  }
  return headers;
}

describe("toRequest's headers", () => {
  const head = "GET / HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "X-Twice: one\r\nx-twice: two\r\nX-Pad:  \t padded \t \r\nX-Empty:\r\nContent-Type: a\r\nContent-Type: b\r\n" +
    "Cookie: a=1\r\nCookie: b=2\r\nSet-Cookie: c=3\r\nSet-Cookie: d=4\r\n\r\n";
  const names = [
    "host",
    "upgrade",
    "x-twice",
    "X-Twice",
    "x-pad",
    "x-empty",
    "content-type",
    "cookie",
    "set-cookie",
    "origin",
    "Origin",
    "sec-websocket-protocol",
  ];

  it("answer get and has as a Headers of the same raw headers does, for any name", async () => {
    const incoming = await upgradeRequest(head);
    const expected = fetchHeadersOf(incoming);
    for (const name of names) {
      const headers = toRequest(incoming, new RequestUrls()).headers;
      expect(headers.has(name), name).toBe(expected.has(name));
      expect(headers.get(name), name).toBe(expected.get(name));
    }
    expect(toRequest(incoming, new RequestUrls()).headers.get("x-twice")).toBe("one, two");
  });

  it("answer values that Headers would change or refuse as Headers does (made-up raw headers: Node's parser lets none through)", () => {
    const rawHeaders = ["Host", "example.test", "X-Pad", " padded\t", "X-Nul", "a\0b", "X-Plain", "plain"];
    const made = {
      method: "GET",
      url: "/",
      headers: { host: "example.test" },
      rawHeaders,
    } as unknown as IncomingMessage;
    const headers = toRequest(made, new RequestUrls()).headers;
    expect(() => headers.get("x-plain")).toThrow(TypeError); // the full Headers refuses the NUL, as before
    const rawWithPad = ["Host", "example.test", "X-Pad", " padded\t", "X-Plain", "plain"];
    const padded =
      toRequest({ ...made, rawHeaders: rawWithPad } as unknown as IncomingMessage, new RequestUrls()).headers;
    expect(padded.get("x-pad")).toBe("padded");
    expect(padded.get("x-plain")).toBe("plain");
  });

  it("answer a name that is not a string as Headers does", async () => {
    const headers = toRequest(await upgradeRequest(head), new RequestUrls()).headers as unknown as {
      get(name?: unknown): string | null;
      has(name?: unknown): boolean;
    };
    const upgrade = new String("upgrade");
    expect(headers.get(upgrade)).toBe("websocket");
    expect(headers.has(upgrade)).toBe(true);
    expect(() => headers.get()).toThrow(TypeError);
    expect(() => headers.has()).toThrow(TypeError);
  });

  it("throw on an invalid name, as Headers does", async () => {
    const headers = toRequest(await upgradeRequest(head), new RequestUrls()).headers;
    expect(() => headers.get("bad name")).toThrow(TypeError);
    expect(() => headers.has("bad\u00e9")).toThrow(TypeError);
    expect(() => headers.get("upgr\u212Ade")).toThrow(TypeError); // the Kelvin sign, which toLowerCase makes a "k"
  });

  it("are a Headers with every member: iteration, getSetCookie, and changes that later reads see", async () => {
    const incoming = await upgradeRequest(head);
    const headers = toRequest(incoming, new RequestUrls()).headers;
    expect(headers).toBeInstanceOf(Headers);
    expect(headers.get("upgrade")).toBe("websocket");
    expect([...headers]).toEqual([...fetchHeadersOf(incoming)]);
    expect(headers.getSetCookie()).toEqual(["c=3", "d=4"]);
    headers.set("upgrade", "h2c");
    headers.delete("x-twice");
    expect(headers.get("upgrade")).toBe("h2c");
    expect(headers.has("x-twice")).toBe(false);
  });
});

describe("RequestUrls", () => {
  // Targets the URL parser changes (dot segments, also as %2e; `'` in a query; `//`; characters it
  // percent-encodes) and targets it keeps, under Hosts it normalizes (case, default port, IPv4, credentials).
  const targets = [
    "/",
    "/chat/room-1?user=a&x=%20b",
    "/a/./b",
    "/a/../b",
    "/a/%2e%2E/b",
    "/a/%2E/b",
    "/.well-known/x",
    "/a?q='1'",
    "//evil.test/x",
    "/a|b^c`d{e}",
    "/caf%C3%A9/[x]:y@z~",
    "/a#frag",
  ];
  const hosts = [
    "example.test:8080",
    "EXAMPLE.test:80",
    "example.test:0080",
    "127.1",
    "[::1]:9000",
    "user:secret@example.test",
    "@example.test",
    "example.test/p?q#f",
  ];

  it("makes the URL new URL(target, 'http://' + host) makes, for each target under each Host, twice", async () => {
    const urls = new RequestUrls();
    for (const host of hosts) {
      for (const target of targets) {
        const incoming = await upgradeRequest(
          `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
        );
        const expected = new URL(target, `http://${host}`).href;
        expect([urls.of(incoming), urls.of(incoming)]).toEqual([expected, expected]);
      }
    }
  });

  it("reads each request's own Host, not the last one it parsed", async () => {
    const urls = new RequestUrls();
    const head = (host: string) =>
      `GET /x HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`;
    expect(urls.of(await upgradeRequest(head("a.test")))).toBe("http://a.test/x");
    expect(urls.of(await upgradeRequest(head("b.test:81")))).toBe("http://b.test:81/x");
    expect(urls.of(await upgradeRequest(head("a.test")))).toBe("http://a.test/x");
    const unparsable = await upgradeRequest(head("a b"));
    expect(() => urls.of(unparsable)).toThrow(TypeError);
  });
});
