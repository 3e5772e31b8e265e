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

/** The upgrade request of `incoming`; an unparsable URL throws here, as `new Request` would. */
export function toRequest(incoming: IncomingMessage): Request {
  const request = Object.create(upgradeRequestPrototype) as UpgradeRequest;
  request[INCOMING] = incoming;
  request[URL_] = new URL(incoming.url ?? "/", `http://${incoming.headers.host ?? "localhost"}`).href;
  return request;
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
