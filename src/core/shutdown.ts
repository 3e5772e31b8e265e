import { CloseCode } from "./constants.ts";
import type { Connection } from "./connection.ts";
import type { ConnectionRegistry } from "./registry.ts";
import type { SessionLink, SessionStore } from "./session.ts";

/** Options of a server handle's `shutdown()`. */
export interface ShutdownOptions {
  /** Close code sent to every open socket. Default 1001 (going away). */
  code?: number;
  /** Close reason sent to every open socket. Default `"server shutting down"`. */
  reason?: string;
  /**
   * Milliseconds to wait for closing handshakes (and, with sessions shared by a `SessionEngine`, for other servers
   * to take the sessions over); sockets still open then are terminated, and those the runtime still does not report
   * closed a second later get `onClose(1006, "")`. Default 5000.
   */
  timeout?: number;
}

/** What every adapter's `serve()` adds to the server it returns. */
export interface Shutdown {
  /**
   * Stops accepting connections, closes every open socket (1001 "server shutting down"), and
   * resolves once each one's `onClose` has run, within about `timeout` ms. Calling it again
   * returns the same promise. Where sessions are shared with other servers (`serve(app, { sessions })` with a
   * `SessionEngine`, e.g. `redisSessions()`), a resumable session does not end: its socket is closed with
   * {@link SESSION_MOVE_CLOSE} and its client resumes it on another server, which takes it over; one not taken
   * over within `timeout` ends then, with `code` and `reason`.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/** The default close sent on shutdown. */
export const SHUTDOWN_CLOSE: Readonly<{ code: number; reason: string }> = Object.freeze({
  code: CloseCode.GOING_AWAY,
  reason: "server shutting down",
});

/**
 * The close a session's socket gets on shutdown when another server can take the session over: `EdgeSocket`
 * reconnects and resumes (1012, Service Restart).
 */
export const SESSION_MOVE_CLOSE: Readonly<{ code: number; reason: string }> = Object.freeze({
  code: CloseCode.SERVICE_RESTART,
  reason: "server restarting: resume elsewhere",
});

const DEFAULT_TIMEOUT_MS = 5000;
/** After terminating the last sockets, how long their close events may take to arrive. */
const TERMINATE_GRACE_MS = 1000;
const POLL_MS = 10;

/**
 * The adapter-neutral shutdown (the server refuses new upgrades with 503 from its start): the `movable` sessions
 * (those another server can take over) are released ({@link SESSION_MOVE_CLOSE}) and every other open connection
 * is closed with `code`/`reason`; sessions not taken over within `timeout` ms end with `code`/`reason`, and
 * connections still open then are terminated (and reported closed with 1006 if the runtime still has not, so every
 * `onClose` runs); then `stopAccepting` (the runtime's own "close the listener") runs — last, because Deno's
 * closes remaining WebSockets with its own reason. Resolves when the registry is empty (every `onClose` ran or
 * every session moved) and the listener has stopped, or after a grace time if a runtime never reports either.
 */
export async function shutdown(
  registry: ConnectionRegistry,
  stopAccepting: () => Promise<unknown> | unknown,
  { code = SHUTDOWN_CLOSE.code, reason = SHUTDOWN_CLOSE.reason, timeout = DEFAULT_TIMEOUT_MS }: ShutdownOptions = {},
  movable?: SessionStore,
): Promise<void> {
  const { moving, released } = releaseSessions(movable);
  for (const connection of registry) if (!moving.has(connection)) connection.close(code, reason);
  // Sessions still on their way here from other servers count too: they arrive detached, to be moved on.
  if (!(await emptied(registry, timeout, () => (movable?.arrivals ?? 0) === 0))) {
    for (const session of movable ?? []) session.close(code, reason);
    for (const link of released) if (!link.socketClosed) link.terminate();
    for (const connection of registry) connection.terminate();
    if (!(await emptied(registry, TERMINATE_GRACE_MS))) {
      for (const connection of registry) connection.closed(CloseCode.ABNORMAL, "");
    }
  }
  const stopped = Promise.resolve().then(stopAccepting).catch(() => {});
  await Promise.race([stopped, delay(TERMINATE_GRACE_MS)]);
}

/**
 * Releases every session of `store` for another server to take over ({@link SESSION_MOVE_CLOSE}): their
 * connections, which stay open until the sessions move or end, and the sockets that carried them.
 */
function releaseSessions(store: SessionStore | undefined): { moving: Set<Connection>; released: SessionLink[] } {
  const moving = new Set<Connection>();
  const released: SessionLink[] = [];
  for (const session of store ?? []) {
    // One the engine can no longer hand over ends here, with the shutdown's close.
    if (store?.engine?.movable?.(session) === false) continue;
    const link = session.link;
    if (!session.release(SESSION_MOVE_CLOSE.code, SESSION_MOVE_CLOSE.reason)) continue;
    moving.add(session.connection);
    if (link) released.push(link);
  }
  return { moving, released };
}

/** Waits up to `ms` for `registry` to empty (and `settled()` to hold); whether it did. */
async function emptied(registry: ConnectionRegistry, ms: number, settled = () => true): Promise<boolean> {
  const done = () => registry.size === 0 && settled();
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await delay(POLL_MS);
  return done();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
