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
  /**
   * Sessions that survive a dropped connection (docs/resume.md): a client that reconnects with `EdgeSocket`
   * within `window` seconds gets the same handler back, and what either side sent meanwhile, exactly once and in
   * order. `true` for the defaults. Default: off (a plain `WebSocket` is served as usual either way).
   */
  resume?: ResumeOptions | boolean;
}

/** Options of a resumable route: see {@link WebSocketOptions.resume}. */
export interface ResumeOptions {
  /** Seconds a dropped session is kept for its client to come back. Default 120 (as Socket.IO's recovery). */
  window?: number;
  /**
   * Messages the server keeps for a session until its client confirms them; one more ends the session
   * ("replay buffer full") rather than growing. Default 10,000.
   */
  maxMessages?: number;
  /** Bytes (text counted in UTF-16 code units) the server keeps for one session, likewise. Default 4 MiB. */
  maxBytes?: number;
}

/** Resume options with every default applied. */
export type ResumeLimits = Readonly<Required<ResumeOptions>>;

/** Options with every default applied; `resume` is `undefined` on a route without sessions. */
export type Limits = Readonly<Required<Omit<WebSocketOptions, "resume">> & { resume: ResumeLimits | undefined }>;

/** The defaults of {@link ResumeOptions}. */
export const DEFAULT_RESUME: ResumeLimits = Object.freeze({
  window: 120,
  maxMessages: 10_000,
  maxBytes: 4 * 1024 * 1024,
});

/**
 * The default limits: 1 MiB messages, 120 s idle time, same-origin only, 64 KiB send high-water mark,
 * 4 MiB send buffer, 10,000 open connections, no message rate limit, no sessions.
 */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  allowedOrigins: Object.freeze([]) as readonly string[],
  maxMessageSize: 1024 * 1024,
  idleTimeout: 120,
  highWaterMark: 64 * 1024,
  maxBufferedAmount: 4 * 1024 * 1024,
  maxConnections: 10_000,
  maxMessagesPerSecond: 0,
  resume: undefined,
});

/** Applies the defaults and rejects values that cannot work. */
export function resolveOptions(options: WebSocketOptions = {}): Limits {
  const { resume, ...rest } = options;
  const limits = { ...DEFAULT_LIMITS, ...withoutUndefined(rest), resume: resolveResume(resume) };
  requireNonNegative("maxMessageSize", limits.maxMessageSize);
  requireNonNegative("idleTimeout", limits.idleTimeout);
  requireNonNegative("highWaterMark", limits.highWaterMark);
  requireNonNegative("maxBufferedAmount", limits.maxBufferedAmount);
  requireNonNegative("maxConnections", limits.maxConnections);
  requireNonNegative("maxMessagesPerSecond", limits.maxMessagesPerSecond);
  if (limits.maxMessageSize === 0) throw new RangeError("maxMessageSize must be greater than 0");
  return Object.freeze(limits);
}

function resolveResume(resume: ResumeOptions | boolean | undefined): ResumeLimits | undefined {
  if (!resume) return undefined;
  const limits = { ...DEFAULT_RESUME, ...withoutUndefined(resume === true ? {} : resume) };
  for (const [name, value] of Object.entries(limits)) {
    requireNonNegative(`resume.${name}`, value);
    if (value === 0) throw new RangeError(`resume.${name} must be greater than 0`);
  }
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
