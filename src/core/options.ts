/** Options of {@link websocket}; every limit is on by default. */
export interface WebSocketOptions {
  /**
   * Origins allowed besides the request's own host, e.g. `["https://app.example.com"]`;
   * `["*"]` allows every origin. Requests without an `Origin` header (non-browser clients) are always allowed.
   */
  allowedOrigins?: readonly string[];
  /** The largest message accepted, in bytes; a larger one closes the socket with 1009. Default 1 MiB. */
  maxMessageSize?: number;
  /**
   * Seconds without any frame from the peer (message or pong) after which the connection is closed;
   * the server pings idle peers where the runtime lets it, so live peers stay open. `0` disables it.
   * Default 120. Per runtime: see docs/runtimes.md, "Idle timeout, per runtime".
   */
  idleTimeout?: number;
  /**
   * Send-buffer size, in bytes, above which `send` returns `false` (the socket is congested; wait
   * for `drained()`). Default 64 KiB. Only where the runtime reports its buffer (not workerd).
   */
  highWaterMark?: number;
  /**
   * Send-buffer size, in bytes, above which a slow consumer is closed with 1008
   * "slow consumer: send buffer full" instead of eating the server's memory. Default 4 MiB; `0` disables it.
   * Only where the runtime reports its buffer (not workerd).
   */
  maxBufferedAmount?: number;
  /**
   * Open connections (on the whole server) at which this route answers new upgrades with 503.
   * Default 10,000; `0` disables it.
   */
  maxConnections?: number;
  /** Messages a socket may send per second; more closes it with 1008 "message rate exceeded". Default `0`: off. */
  maxMessagesPerSecond?: number;
}

/** Options with every default applied. */
export type Limits = Readonly<Required<WebSocketOptions>>;

/**
 * The default limits: 1 MiB messages, 120 s idle time, same-origin only, 64 KiB send high-water mark,
 * 4 MiB send buffer, 10,000 open connections, no message rate limit.
 */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  allowedOrigins: Object.freeze([]) as readonly string[],
  maxMessageSize: 1024 * 1024,
  idleTimeout: 120,
  highWaterMark: 64 * 1024,
  maxBufferedAmount: 4 * 1024 * 1024,
  maxConnections: 10_000,
  maxMessagesPerSecond: 0,
});

/** Applies the defaults and rejects values that cannot work. */
export function resolveOptions(options: WebSocketOptions = {}): Limits {
  const limits = { ...DEFAULT_LIMITS, ...withoutUndefined(options) };
  requireNonNegative("maxMessageSize", limits.maxMessageSize);
  requireNonNegative("idleTimeout", limits.idleTimeout);
  requireNonNegative("highWaterMark", limits.highWaterMark);
  requireNonNegative("maxBufferedAmount", limits.maxBufferedAmount);
  requireNonNegative("maxConnections", limits.maxConnections);
  requireNonNegative("maxMessagesPerSecond", limits.maxMessagesPerSecond);
  if (limits.maxMessageSize === 0) throw new RangeError("maxMessageSize must be greater than 0");
  return Object.freeze(limits);
}

function requireNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
