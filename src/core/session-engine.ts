/**
 * Sessions shared by several servers: a {@link SessionEngine} (e.g. `redisSessions()` from `edgesocket/redis`,
 * given to `serve(app, { sessions })`) is the {@link SessionJournal} of each server's sessions, and moves a session
 * from the server that holds it to the one its client came back to.
 *
 * A session is held by one server at a time (its handler lives there). Another server asked to resume it asks the
 * engine to move it ({@link SessionEngine.takeOver}); the engine has the holder give it up (`Session.handOver()`:
 * its socket closed, no `onClose`) and rebuilds it from what was saved ({@link MovedSession}; `SessionStore.adopt`):
 * a new handler instance with the saved params, `state` and topics, the counts of the resume protocol and the
 * messages the client has not confirmed; `open` does not run again, `onResume` does. The session ends, and
 * `onClose` runs, on the server that holds it then, once the engine confirms that it still held it (the promise
 * that {@link SessionJournal.ended} returns).
 * @module
 */
import type { SavedConnection } from "./connection.ts";
import type { SendData } from "./message.ts";
import type { Runtime } from "./runtime.ts";
import type { SavedSession, Session, SessionJournal } from "./session.ts";

/** A session as the server that held it last gave it up: what rebuilds it on another (`SessionStore.adopt`). */
export interface MovedSession extends SavedSession, SavedConnection {
  /** The topics its connection was in. */
  readonly topics: readonly string[];
  /** The messages the client has not confirmed: numbers `sent - replay.length + 1` to `sent`. */
  readonly replay: readonly SendData[];
}

/**
 * Keeps the sessions of several servers, for `serve(app, { sessions })`: the journal of each server's sessions (a
 * session also stays in its holder's memory, so that a client that comes back to the same server resumes without
 * asking the engine), which moves a session to another server when its client comes back there.
 */
export interface SessionEngine extends SessionJournal {
  /** The server starts; throws if the engine cannot serve it (e.g. it needs that server's backplane). */
  start(runtime: Runtime): void;
  /**
   * A client asks this server for session `id` of `route`, which it does not hold: moves it here if it lives
   * elsewhere. Calls `adopt` (which rebuilds it, detached) once, synchronously, with what the holder saved, and
   * resolves with the rebuilt session; resolves `undefined` when there is no such session on that route.
   */
  takeOver(id: string, route: string, adopt: (moved: MovedSession) => Session): Promise<Session | undefined>;
  /**
   * Whether another server could take `session` over now: false when what the engine saved of it was lost (e.g.
   * its keys expired). A server that shuts down then ends the session with its close at once, instead of keeping
   * it for a hand-over that cannot come. Absent: always true.
   */
  movable?(session: Session): boolean;
}
