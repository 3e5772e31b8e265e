/**
 * The opening handshake, decided without a socket: every check returns either
 * nothing (the request passes) or the HTTP response that refuses it.
 * Runtimes disagree on these checks, so they run before any runtime sees the request.
 */

/** A refusal with a short plain-text reason and any headers the RFC asks for. */
export function refuse(status: number, reason: string, headers?: Record<string, string>): Response {
  return new Response(reason, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** Checks method, `Upgrade`, `Connection`, `Sec-WebSocket-Key` and `Sec-WebSocket-Version` (RFC 6455 §4.2.1). */
export function validateUpgradeRequest(request: Request): Response | undefined {
  const headers = request.headers;
  if (request.method !== "GET") {
    return refuse(405, "WebSocket upgrades must use GET", { allow: "GET" });
  }
  if (!hasToken(headers.get("upgrade"), "websocket")) {
    return refuse(426, "this route only accepts WebSocket upgrades", { upgrade: "websocket" });
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    return refuse(400, "the Connection header must include Upgrade");
  }
  if (!isValidKey(headers.get("sec-websocket-key"))) {
    return refuse(400, "missing or malformed Sec-WebSocket-Key");
  }
  if (headers.get("sec-websocket-version")?.trim() !== "13") {
    return refuse(426, "unsupported Sec-WebSocket-Version; use 13", { "sec-websocket-version": "13" });
  }
  return undefined;
}

/** True when a comma-separated header value lists `token`, ignoring case. */
export function hasToken(value: string | null, token: string): boolean {
  if (!value) return false;
  if (value.length === token.length) return value.toLowerCase() === token; // the usual lone token
  return value.split(",").some((part) => part.trim().toLowerCase() === token);
}

const BASE64_OF_16_BYTES = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/** A key must be the base64 encoding of exactly 16 bytes (RFC 6455 §4.1). */
export function isValidKey(key: string | null): boolean {
  return key !== null && BASE64_OF_16_BYTES.test(key.trim());
}

/** The subprotocols a client offers in `Sec-WebSocket-Protocol`, in its order of preference. */
export function offeredSubprotocols(header: string | null): string[] {
  if (!header) return [];
  return header.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * Tornado's rule: the browser's `Origin` must name the host the request was sent to.
 * `host` is the request's `Host` header.
 */
export function isSameOrigin(origin: string, host: string | null): boolean {
  if (!host) return false;
  try {
    const url = new URL(origin);
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** True when `origin` is listed in `allowed` (exactly, or by a `"*"` entry). */
export function isListedOrigin(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes("*") || allowed.includes(origin);
}
