/**
 * The upgrade request on Node, made cheaply: a `Request` whose `method`, `url` and `headers` are read
 * from the `IncomingMessage`, and whose other members build the full `Request` on first use. Node 20's
 * own `Request` constructor (undici: an AbortSignal, WebIDL checks) costs about a fifth of the server's
 * CPU per connect-echo-close cycle; the upgrade path only reads these three. Its `headers` are made the
 * same way: `get` and `has` of a lowercase name read Node's raw headers, anything else builds a full
 * `Headers` (undici's, whose copy and WebIDL checks took about 5 µs per upgrade: docs/performance.md).
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
  /**
   * Each header's value by lowercase name, as `Headers.get` gives it; made on the first `get` or `has`. `null` when a
   * raw value is one that `Headers` would change or refuse: the full `Headers` answers then.
   */
  [VALUES]?: Map<string, string> | null;
  [FULL]?: Headers;
}

/**
 * A prototype for stand-ins of `Base`'s instances: `own` answers some members itself; every other method and
 * getter along `Base.prototype`'s chain (a subclass's, such as `@hono/node-server`'s global `Request`, and its
 * base's) is answered by the real instance that `full` builds (once) for the stand-in.
 */
function standInPrototype<T extends object, S extends T>(
  Base: { prototype: T },
  own: ThisType<S> & Partial<T>,
  full: (standIn: S) => T,
): T {
  const prototype = Object.setPrototypeOf(own, Base.prototype) as T;
  for (const [key, descriptor] of inheritedMembers(Base.prototype)) {
    if (key === "constructor" || Object.hasOwn(own, key)) continue;
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

/** The properties along `prototype`'s chain up to `Object.prototype`, each from the nearest object that has it. */
function inheritedMembers(prototype: object): Map<PropertyKey, PropertyDescriptor> {
  const members = new Map<PropertyKey, PropertyDescriptor>();
  for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Reflect.ownKeys(p)) {
      if (!members.has(key)) members.set(key, Reflect.getOwnPropertyDescriptor(p, key)!);
    }
  }
  return members;
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
  // Rest parameters pass on what was called: `get()` without a name throws in `Headers`, `get(undefined)` does not.
  get(...args: [name: string]): string | null {
    const values = valuesFor(this, args[0]);
    return values ? values.get(args[0]) ?? null : fullHeaders(this).get(...args);
  },
  has(...args: [name: string]): boolean {
    const values = valuesFor(this, args[0]);
    return values ? values.has(args[0]) : fullHeaders(this).has(...args);
  },
}, fullHeaders);

/** The values that answer a read of `name` from `headers`, or `undefined` when the full `Headers` must. */
function valuesFor(headers: UpgradeHeaders, name: unknown): Map<string, string> | undefined {
  if (headers[FULL] || typeof name !== "string" || !LOWERCASE_TOKEN.test(name)) return undefined;
  if (headers[VALUES] === undefined) headers[VALUES] = headerValues(headers[RAW]);
  return headers[VALUES] ?? undefined;
}

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
 * The values Node's `Headers.get` gives for `raw`'s names, repeated names joined in order; `null` if a value has
 * leading or trailing whitespace (which `Headers` takes off) or a character it refuses. Node's parser lets neither
 * through, but its lenient mode (`--insecure-http-parser`) may.
 */
function headerValues(raw: string[]): Map<string, string> | null {
  const values = new Map<string, string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (!PLAIN_VALUE.test(value)) return null;
    const earlier = values.get(name);
    // Node's Headers (undici) joins repeated cookies as one Cookie header would be.
    values.set(name, earlier === undefined ? value : `${earlier}${name === "cookie" ? "; " : ", "}${value}`);
  }
  return values;
}

/** A header value with no NUL, CR or LF, and no space or tab at either end. */
const PLAIN_VALUE = /^(?![\t ])[^\0\r\n]*(?<![\t ])$/;

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
