import { describe, expect, it } from "vitest";
import {
  hasToken,
  isListedOrigin,
  isSameOrigin,
  isValidKey,
  offeredSubprotocols,
  refuse,
  validateUpgradeRequest,
} from "../../src/core/handshake.ts";

const VALID_KEY = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455 §1.3

function upgradeRequest(headers: Record<string, string | null> = {}, method = "GET"): Request {
  const all: Record<string, string | null> = {
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": VALID_KEY,
    "sec-websocket-version": "13",
    ...headers,
  };
  const init = new Headers();
  for (const [name, value] of Object.entries(all)) if (value !== null) init.set(name, value);
  return new Request("http://localhost/ws", { method, headers: init });
}

async function expectRefusal(
  response: Response | undefined,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): Promise<void> {
  expect(response).toBeInstanceOf(Response);
  expect(response!.status).toBe(status);
  expect(await response!.text()).toBe(reason);
  expect(response!.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  for (const [name, value] of Object.entries(headers)) expect(response!.headers.get(name)).toBe(value);
}

describe("#refuse", () => {
  it("answers with the status, a plain-text reason and the extra headers", async () => {
    await expectRefusal(refuse(418, "teapot", { "x-extra": "1" }), 418, "teapot", { "x-extra": "1" });
  });
});

describe("#validateUpgradeRequest", () => {
  it("accepts a valid upgrade request", () => {
    expect(validateUpgradeRequest(upgradeRequest())).toBeUndefined();
  });

  it("accepts header values in any case and inside token lists", () => {
    const request = upgradeRequest({ upgrade: "WebSocket", connection: "keep-alive, Upgrade" });
    expect(validateUpgradeRequest(request)).toBeUndefined();
  });

  it("refuses a method other than GET with 405 and Allow: GET (1/2)", async () => {
    await expectRefusal(validateUpgradeRequest(upgradeRequest({}, "POST")), 405, "WebSocket upgrades must use GET", {
      allow: "GET",
    });
  });

  it("refuses a method other than GET with 405 and Allow: GET (2/2)", async () => {
    await expectRefusal(validateUpgradeRequest(upgradeRequest({}, "HEAD")), 405, "WebSocket upgrades must use GET", {
      allow: "GET",
    });
  });

  it("refuses a request without Upgrade: websocket with 426 and Upgrade: websocket (1/2)", async () => {
    await expectRefusal(
      validateUpgradeRequest(upgradeRequest({ upgrade: null })),
      426,
      "this route only accepts WebSocket upgrades",
      { upgrade: "websocket" },
    );
  });

  it("refuses a request without Upgrade: websocket with 426 and Upgrade: websocket (2/2)", async () => {
    await expectRefusal(
      validateUpgradeRequest(upgradeRequest({ upgrade: "h2c" })),
      426,
      "this route only accepts WebSocket upgrades",
      { upgrade: "websocket" },
    );
  });

  it("refuses a Connection header without Upgrade with 400 (1/2)", async () => {
    await expectRefusal(
      validateUpgradeRequest(upgradeRequest({ connection: "keep-alive" })),
      400,
      "the Connection header must include Upgrade",
    );
  });

  it("refuses a Connection header without Upgrade with 400 (2/2)", async () => {
    await expectRefusal(
      validateUpgradeRequest(upgradeRequest({ connection: null })),
      400,
      "the Connection header must include Upgrade",
    );
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["not base64", "not a key at all!!!!!!!=="],
    ["15 bytes long", btoa("0123456789abcde")],
    ["17 bytes long", btoa("0123456789abcdefg")],
    ["without padding", "dGhlIHNhbXBsZSBub25jZQ"],
    ["ending with a character that leaves bits set", "dGhlIHNhbXBsZSBub25jZR=="],
  ])("refuses a Sec-WebSocket-Key that is %s with 400", async (_, key) => {
    await expectRefusal(
      validateUpgradeRequest(upgradeRequest({ "sec-websocket-key": key })),
      400,
      "missing or malformed Sec-WebSocket-Key",
    );
  });

  it.each([
    ["missing", null],
    ["8", "8"],
    ["a list", "13, 8"],
  ])("refuses a Sec-WebSocket-Version that is %s with 426 and Sec-WebSocket-Version: 13", async (_, version) => {
    await expectRefusal(
      validateUpgradeRequest(upgradeRequest({ "sec-websocket-version": version })),
      426,
      "unsupported Sec-WebSocket-Version; use 13",
      { "sec-websocket-version": "13" },
    );
  });

  it("checks the method before the headers", async () => {
    const response = validateUpgradeRequest(upgradeRequest({ upgrade: null, "sec-websocket-key": null }, "POST"));
    expect(response?.status).toBe(405);
  });
});

describe("#hasToken", () => {
  it("finds a token in a comma-separated list, ignoring case and spaces", () => {
    expect(hasToken("keep-alive,  UPGRADE ", "upgrade")).toBe(true);
  });

  it("is false for a missing or empty header", () => {
    expect(hasToken(null, "upgrade")).toBe(false);
    expect(hasToken("", "upgrade")).toBe(false);
  });

  it("does not match a token that only contains the word", () => {
    expect(hasToken("upgrade-insecure", "upgrade")).toBe(false);
  });

  it("matches a lone token in any case, and no other word of its length", () => {
    expect(hasToken("WebSocket", "websocket")).toBe(true);
    expect(hasToken("websockex", "websocket")).toBe(false);
    expect(hasToken(",upgrade", "upgrade")).toBe(true);
  });
});

describe("#isValidKey", () => {
  it("accepts the base64 of 16 random bytes", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    expect(isValidKey(btoa(String.fromCharCode(...bytes)))).toBe(true);
  });

  it.each(["A", "Q", "g", "w"])("accepts a key whose last character is %s", (last) => {
    expect(isValidKey(`${"a".repeat(21)}${last}==`)).toBe(true);
  });

  it("rejects a key of the right length whose last character leaves bits set", () => {
    expect(isValidKey(`${"a".repeat(21)}B==`)).toBe(false);
  });

  it("rejects a 24-character key without the == padding", () => {
    expect(isValidKey("a".repeat(24))).toBe(false);
  });

  it("rejects null", () => {
    expect(isValidKey(null)).toBe(false);
  });
});

describe("#offeredSubprotocols", () => {
  it('splits "a,b"', () => {
    expect(offeredSubprotocols("a,b")).toEqual(["a", "b"]);
  });

  it('splits "a, b"', () => {
    expect(offeredSubprotocols("a, b")).toEqual(["a", "b"]);
  });

  it("keeps the client's order of preference", () => {
    expect(offeredSubprotocols("chat.v2, chat.v1")).toEqual(["chat.v2", "chat.v1"]);
  });

  it("is empty for a missing or empty header", () => {
    expect(offeredSubprotocols(null)).toEqual([]);
    expect(offeredSubprotocols("")).toEqual([]);
  });

  it("drops empty entries", () => {
    expect(offeredSubprotocols(" , a,, ")).toEqual(["a"]);
  });
});

describe("#isSameOrigin", () => {
  it("allows an origin naming the request's host", () => {
    expect(isSameOrigin("https://example.com", "example.com")).toBe(true);
  });

  it("allows an origin naming the request's host and port", () => {
    expect(isSameOrigin("http://localhost:8000", "localhost:8000")).toBe(true);
  });

  it("treats an explicit default port as no port (1/3)", () => {
    expect(isSameOrigin("https://example.com", "example.com:443")).toBe(true);
  });

  it("treats an explicit default port as no port (2/3)", () => {
    expect(isSameOrigin("http://example.com:80", "example.com")).toBe(true);
  });

  it("treats an explicit default port as no port (3/3)", () => {
    expect(isSameOrigin("http://example.com", "example.com:443")).toBe(false);
  });

  it("ignores the case of the host", () => {
    expect(isSameOrigin("https://EXAMPLE.com", "Example.COM")).toBe(true);
  });

  it("refuses another host", () => {
    expect(isSameOrigin("https://evil.example", "example.com")).toBe(false);
  });

  it("refuses a subdomain of the host", () => {
    expect(isSameOrigin("https://app.example.com", "example.com")).toBe(false);
  });

  it("refuses another port", () => {
    expect(isSameOrigin("http://localhost:9000", "localhost:8000")).toBe(false);
  });

  it('refuses the opaque origin "null"', () => {
    expect(isSameOrigin("null", "example.com")).toBe(false);
  });

  it("refuses an origin that is not a URL", () => {
    expect(isSameOrigin("::not a url::", "example.com")).toBe(false);
  });

  it("refuses every origin when the request has no Host", () => {
    expect(isSameOrigin("https://example.com", null)).toBe(false);
    expect(isSameOrigin("https://example.com", "")).toBe(false);
  });
});

describe("#isListedOrigin", () => {
  it("allows an origin listed exactly", () => {
    expect(isListedOrigin("https://app.example.com", ["https://app.example.com"])).toBe(true);
  });

  it("refuses an origin not listed", () => {
    expect(isListedOrigin("https://evil.example", ["https://app.example.com"])).toBe(false);
  });

  it('allows every origin with "*"', () => {
    expect(isListedOrigin("https://evil.example", ["*"])).toBe(true);
  });

  it("refuses every origin with an empty list", () => {
    expect(isListedOrigin("https://example.com", [])).toBe(false);
  });
});
