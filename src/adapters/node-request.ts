/**
 * The upgrade request on Node, made cheaply: a `Request` whose `method`, `url` and `headers` are read
 * from the `IncomingMessage`, and whose other members build the full `Request` on first use. Node 20's
 * own `Request` constructor (undici: an AbortSignal, WebIDL checks) costs about a fifth of the server's
 * CPU per connect-echo-close cycle; the upgrade path only reads these three. Its `headers` are made the
 * same way: `get` and `has` of a lowercase name read Node's raw headers, anything else builds a full
 * `Headers` (undici's, with its WebIDL checks on every call, cost as much again as Hono's routing).
 * The same idea as `@hono/node-server`'s request for ordinary HTTP requests.
 * @module
 */
import type { IncomingMessage } from "node:http";

const INCOMING = Symbol("edgesocket.incoming");
const FULL = Symbol("edgesocket.full");
const HEADERS = Symbol("edgesocket.headers");
const URL_ = Symbol("edgesocket.url");
const RAW = Symbol("edgesocket.rawHeaders");
const VALUES = Symbol("edgesocket.headerValues");

interface UpgradeRequest extends Request {
  [INCOMING]: IncomingMessage;
  [URL_]: string;
  [FULL]?: Request;
  [HEADERS]?: UpgradeHeaders;
}

interface UpgradeHeaders extends Headers {
  /** Node's `rawHeaders`: names and values, alternating, in the order they came. */
  [RAW]: string[];
  /** Each header's value by lowercase name, as `Headers.get` gives it; made on the first `get` or `has`. */
  [VALUES]?: Map<string, string>;
  [FULL]?: Headers;
}

/**
 * A prototype for stand-ins of `Base`'s instances: `own` answers some members itself; every other method and
 * getter of `Base.prototype` is answered by the real instance that `full` builds (once) for the stand-in.
 */
function standInPrototype<T extends object, S extends T>(
  Base: { prototype: T },
  own: ThisType<S> & Partial<T>,
  full: (standIn: S) => T,
): T {
  const prototype = Object.setPrototypeOf(own, Base.prototype) as T;
  for (const key of Reflect.ownKeys(Base.prototype)) {
    if (key === "constructor" || Object.hasOwn(own, key)) continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(Base.prototype, key)!;
    if (typeof descriptor.value === "function") {
      Object.defineProperty(prototype, key, {
        value(this: S, ...args: unknown[]) {
          const real = full(this) as Record<PropertyKey, (...args: unknown[]) => unknown>;
          return real[key]!(...args);
        },
      });
    } else if (descriptor.get) {
      Object.defineProperty(prototype, key, {
        get(this: S) {
          return (full(this) as Record<PropertyKey, unknown>)[key];
        },
      });
    }
  }
  return prototype;
}

const upgradeRequestPrototype = standInPrototype<Request, UpgradeRequest>(Request, {
  get method(): string {
    return this[INCOMING].method ?? "GET";
  },
  get url(): string {
    return this[URL_];
  },
  /** Made on first read, then always the same object (the full request, if made, has a copy). */
  get headers(): Headers {
    return (this[HEADERS] ??= upgradeHeaders(this[INCOMING].rawHeaders));
  },
}, fullRequest);

function fullRequest(request: UpgradeRequest): Request {
  return (request[FULL] ??= new Request(request.url, { method: request.method, headers: request.headers }));
}

/** A header name as `Headers.get` takes it, already in lowercase (an HTTP token): any other goes to the full `Headers`. */
const LOWERCASE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

const upgradeHeadersPrototype = standInPrototype<Headers, UpgradeHeaders>(Headers, {
  get(name: string): string | null {
    if (this[FULL] || !LOWERCASE_TOKEN.test(name)) return fullHeaders(this).get(name);
    return (this[VALUES] ??= headerValues(this[RAW])).get(name) ?? null;
  },
  has(name: string): boolean {
    if (this[FULL] || !LOWERCASE_TOKEN.test(name)) return fullHeaders(this).has(name);
    return (this[VALUES] ??= headerValues(this[RAW])).has(name);
  },
}, fullHeaders);

function upgradeHeaders(raw: string[]): UpgradeHeaders {
  const headers = Object.create(upgradeHeadersPrototype) as UpgradeHeaders;
  headers[RAW] = raw;
  return headers;
}

function fullHeaders(headers: UpgradeHeaders): Headers {
  if (headers[FULL]) return headers[FULL];
  const full = new Headers();
  const raw = headers[RAW];
  for (let i = 0; i < raw.length; i += 2) full.append(raw[i]!, raw[i + 1]!);
  return (headers[FULL] = full);
}

/**
 * The values Node's `Headers.get` gives for `raw`'s names: repeated names joined in order, each value without
 * leading or trailing HTTP whitespace (Node's parser has taken it off already, but the Fetch standard says so).
 */
function headerValues(raw: string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = withoutHttpWhitespace(raw[i + 1]!);
    const earlier = values.get(name);
    // Node's Headers (undici) joins repeated cookies as one Cookie header would be.
    values.set(name, earlier === undefined ? value : `${earlier}${name === "cookie" ? "; " : ", "}${value}`);
  }
  return values;
}

const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

function withoutHttpWhitespace(value: string): string {
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return isHttpWhitespace(first) || isHttpWhitespace(last) ? value.replace(EDGE_WHITESPACE, "") : value;
}

function isHttpWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
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
