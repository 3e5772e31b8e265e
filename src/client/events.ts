/**
 * The events an `EdgeSocket` fires besides the WebSocket's own `open` and `message`.
 * @module
 */
import type { CloseInfo } from "./policy.ts";
import type { SchemaIssue } from "./schema.ts";

/** `open`: a connection opened. On a resumable route it says whether the last session continued. */
export interface EdgeSocketOpenEvent extends Event {
  /**
   * True when the connection continues the previous session: what either side missed has been sent again.
   * False on a first connection, on a route without resume, and when the session could not be resumed (its
   * window passed, the server restarted): then the server started a new session.
   */
  readonly resumed: boolean;
  /**
   * When a session could not be resumed: the messages sent in it that the server never confirmed (they may or
   * may not have reached the old session; none is sent again by itself). Empty otherwise.
   */
  readonly unconfirmed: readonly unknown[];
}

/** `close`: a connection ended. `willRetry` says whether the client will try again. */
export class EdgeSocketCloseEvent extends Event implements CloseInfo {
  /** Made by the client. */
  constructor(
    info: CloseInfo,
    /** Whether a `reconnecting` event follows (false: closed for good, until `reconnect()`). */
    readonly willRetry: boolean,
  ) {
    super("close");
    ({ code: this.code, reason: this.reason, wasClean: this.wasClean, opened: this.opened, status: this.status } =
      info);
  }
  /** The close code. */
  readonly code: number;
  /** The close reason. */
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean;
  /** Whether this connection had opened. */
  readonly opened: boolean;
  /** The HTTP status of a refused handshake, where the runtime reports it. */
  readonly status?: number;
}

/** `reconnecting`: the next attempt is scheduled. */
export class ReconnectingEvent extends Event {
  /** Made by the client. */
  constructor(
    /** The attempt's number: 1 for the first retry since the last stable connection. */
    readonly attempt: number,
    /** Its delay in ms. */
    readonly delay: number,
    /** When it starts (`Date.now()` time). */
    readonly at: number,
    /** How the last connection ended. */
    readonly lastClose: CloseInfo,
  ) {
    super("reconnecting");
  }
}

/** `invalidmessage`: a message the `schema` refused; it does not reach `message` listeners. */
export class InvalidMessageEvent extends Event {
  /** Made by the client. */
  constructor(
    /** The message as received. */
    readonly data: unknown,
    /** The problems found. */
    readonly issues: readonly SchemaIssue[],
  ) {
    super("invalidmessage");
  }
}

/** `error`: the runtime reported an error on the connection (a `close` follows). */
export class EdgeSocketErrorEvent extends Event {
  /** Made by the client. */
  constructor(
    /** The runtime's error message, if it gave one (browsers do not). */
    readonly message: string,
  ) {
    super("error");
  }
}
