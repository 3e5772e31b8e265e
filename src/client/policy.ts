/**
 * Which ended connections the client retries: the close codes and HTTP statuses that say "do not come back".
 * @module
 */

/** How the last connection (or connection attempt) ended: what `shouldReconnect` decides on. */
export interface CloseInfo {
  /** The close code: 1006 when the connection dropped, never opened, or did not open within `connectionTimeout`. */
  readonly code: number;
  /** The close reason the server sent, if any. */
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean;
  /** Whether this attempt ever opened. In browsers a refused handshake is an attempt that never opened. */
  readonly opened: boolean;
  /**
   * The HTTP status of a refused handshake, where the runtime reports it (Node's `ws`, Deno, Bun);
   * `undefined` in browsers, which hide it.
   */
  readonly status?: number;
}

/**
 * The default decision: retry, except when the server said not to come back.
 * - A refused handshake with a known status: retry 408, 429 and 5xx (and anything outside 4xx); stop on other 4xx.
 * - A close code: stop on 1008 (policy violation) and 4000–4099 (reserved by edgesocket for "do not reconnect");
 *   retry every other code (1000, 1001, 1006, 1011, 1012, 1013, ...).
 */
export function defaultShouldReconnect(info: CloseInfo): boolean {
  const { status, code } = info;
  if (status !== undefined) return status < 400 || status > 499 || status === 408 || status === 429;
  return code !== 1008 && (code < 4000 || code > 4099);
}

/** The HTTP status in the error message of a refused handshake (`ws`, Deno and Bun each name it), if any. */
export function statusOf(message: string): number | undefined {
  const match = /(?:status code|server response):? (\d{3})\b/i.exec(message);
  return match ? Number(match[1]) : undefined;
}
