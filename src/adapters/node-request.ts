/**
 * The upgrade request on Node, made cheaply: a `Request` whose `method`, `url` and `headers` are read
 * from the `IncomingMessage`, and whose other members build the full `Request` on first use. Node 20's
 * own `Request` constructor (undici: an AbortSignal, WebIDL checks) costs about a fifth of the server's
 * CPU per connect-echo-close cycle; the upgrade path only reads these three. The same idea as
 * `@hono/node-server`'s request for ordinary HTTP requests.
 * @module
 */
import type { IncomingMessage } from "node:http";

const INCOMING = Symbol("edgesocket.incoming");
const FULL = Symbol("edgesocket.fullRequest");
const HEADERS = Symbol("edgesocket.headers");
const URL_ = Symbol("edgesocket.url");

interface UpgradeRequest extends Request {
  [INCOMING]: IncomingMessage;
  [URL_]: string;
  [FULL]?: Request;
  [HEADERS]?: Headers;
}

const upgradeRequestPrototype = {
  get method(): string {
    return (this as unknown as UpgradeRequest)[INCOMING].method ?? "GET";
  },
  get url(): string {
    return (this as unknown as UpgradeRequest)[URL_];
  },
  /** Built on first read, then always the same object (the full request, if made, has a copy). */
  get headers(): Headers {
    const request = this as unknown as UpgradeRequest;
    return (request[HEADERS] ??= headersOf(request[INCOMING]));
  },
};
Object.setPrototypeOf(upgradeRequestPrototype, Request.prototype);
for (const key of Reflect.ownKeys(Request.prototype)) {
  if (key === "constructor" || key === "method" || key === "headers" || key === "url") continue;
  const descriptor = Reflect.getOwnPropertyDescriptor(Request.prototype, key)!;
  if (typeof descriptor.value === "function") {
    Object.defineProperty(upgradeRequestPrototype, key, {
      value(this: UpgradeRequest, ...args: unknown[]) {
        const full = fullRequest(this) as unknown as Record<PropertyKey, (...args: unknown[]) => unknown>;
        return full[key]!(...args);
      },
    });
  } else if (descriptor.get) {
    Object.defineProperty(upgradeRequestPrototype, key, {
      get(this: UpgradeRequest) {
        return (fullRequest(this) as unknown as Record<PropertyKey, unknown>)[key];
      },
    });
  }
}

/**
 * The upgrade request of `incoming`, its URL made by `urls` (the server's); an unparsable URL throws here, as
 * `new Request` would.
 */
export function toRequest(incoming: IncomingMessage, urls: RequestUrls): Request {
  const request = Object.create(upgradeRequestPrototype) as UpgradeRequest;
  request[INCOMING] = incoming;
  request[URL_] = urls.of(incoming);
  return request;
}

/**
 * A request target the URL parser leaves as it is in a path or a query, when it also does not match
 * {@link DOT_SEGMENT}: a path (not `//`, which names a host) of characters the parser does not percent-encode there.
 * The idea of `@hono/node-server`'s `buildUrl`, stricter (no `'`, no `#`, no `%2e`).
 */
const PLAIN_TARGET = /^\/(?!\/)[\w\-.~!$&()*+,;=:@/?%[\]]*$/;
/** A segment that starts with a dot, plain or as `%2e`, which the parser may resolve (`.`, `..`); no fast path. */
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

/**
 * The absolute URLs of one server's upgrade requests, as `new URL(target, "http://" + host).href` makes them.
 * A target that matches {@link PLAIN_TARGET} and not {@link DOT_SEGMENT} is appended to its Host's origin, parsed
 * once for the last Host seen (a server mostly sees one), instead of two URL parses per upgrade (those took 1.6% of
 * the server's busy time in a CPU profile of Node's connect-echo-close cycle: docs/performance.md, "The upgrade path
 * on Node").
 */
export class RequestUrls {
  #host: string | undefined;
  #origin = "";

  /** The URL of `incoming`; throws a `TypeError` on a Host that makes no URL. */
  of(incoming: IncomingMessage): string {
    const target = incoming.url ?? "/";
    const host = incoming.headers.host ?? "localhost";
    if (PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target)) {
      if (host === this.#host) return this.#origin + target;
      const base = new URL(`http://${host}`);
      // A base with credentials passes them on to the URL: not an origin's.
      if (base.username === "" && base.password === "") {
        this.#host = host;
        this.#origin = base.origin;
        return this.#origin + target;
      }
    }
    return new URL(target, `http://${host}`).href;
  }
}

function fullRequest(request: UpgradeRequest): Request {
  return (request[FULL] ??= new Request(request.url, { method: request.method, headers: request.headers }));
}

function headersOf(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}
