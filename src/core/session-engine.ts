/**
 * The hooks through which resumable sessions live beyond one server's memory: a {@link SessionEngine} (e.g.
 * `redisSessions()` from `edgesocket/redis`, given to `serve(app, { sessions })`) keeps what a session changes in a
 * {@link SessionJournal}, and rebuilds elsewhere a session it saved as a {@link SavedSession}. Runtime- and
 * store-neutral: a Durable Object's storage could implement it as well as Redis.
 *
 * A session is held by one server at a time (its handler lives there). Another server that is asked to resume it
 * asks the engine to move it ({@link SessionEngine.takeOver}); the engine has the holder give it up
 * (`Session.handOver()`: no `onClose`) and rebuilds it from what was saved: a new handler instance with the saved
 * params, `state` and topics, the counts of the resume protocol and the messages the client has not confirmed;
 * `open` does not run again, `onResume` does. The session ends (and `onClose` runs) on the server that holds it
 * then, once the engine confirms that it still held it ({@link SessionJournal.end}).
 * @module
 */
import type { SavedConnection } from "./connection.ts";
import type { SendData } from "./message.ts";
import type { Runtime } from "./runtime.ts";
import type { Session } from "./session.ts";

/**
 * What a session reports, as it happens, to the engine that keeps it: enough to rebuild it. Calls are
 * synchronous and in order; the engine may write them in batches, in that order.
 */
export interface SessionJournal {
  /** The session sent its message number `count` (from 1): kept until the client confirms it. */
  sent(count: number, data: SendData): void;
  /** The client confirmed the session's messages up to `count`: they are no longer kept. */
  confirmed(count: number): void;
  /** The session received `count` messages from the client in all: said before they are acknowledged. */
  received(count: number): void;
  /** The handler's `state` or topics changed. */
  changed(): void;
  /**
   * The session ends for good (closed, or its window is over). Resolves `true` when this server still held it
   * and so runs `onClose`; `false` when another server took it meanwhile (this one then drops it quietly).
   */
  end(): Promise<boolean>;
}

/** A session as saved by the server that held it last: what rebuilds it (see `Session.handOver()`). */
export interface SavedSession extends SavedConnection {
  /** The route it belongs to (its path pattern). */
  readonly route: string;
  /** The topics its connection was in. */
  readonly topics: readonly string[];
  /** How many messages it sent to the client. */
  readonly sent: number;
  /** How many messages it received from the client. */
  readonly received: number;
  /** The messages the client has not confirmed: numbers `sent - replay.length + 1` to `sent`. */
  readonly replay: readonly SendData[];
}

/**
 * Keeps sessions beyond this server's memory, for `serve(app, { sessions })`. Sessions held here stay in memory
 * as well: a client that comes back to the same server resumes without asking the engine.
 */
export interface SessionEngine {
  /** The server starts; throws if the engine cannot serve it (e.g. it needs that server's backplane). */
  start(runtime: Runtime): void;
  /** A session started here, or was rebuilt here: where it reports its changes. */
  journal(session: Session): SessionJournal;
  /**
   * A client asks this server for session `id` of `route`, which it does not hold: moves it here if it lives
   * elsewhere. Calls `adopt` (which rebuilds it, detached) once, synchronously, with what was saved, and resolves
   * with the rebuilt session; resolves `undefined` when there is no such session on that route.
   */
  takeOver(id: string, route: string, adopt: (saved: SavedSession) => Session): Promise<Session | undefined>;
}
