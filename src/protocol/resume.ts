/**
 * The resume protocol's wire format, shared by the server (`src/core/session.ts`) and `EdgeSocket`: pure
 * functions, no runtime API. docs/resume.md describes the protocol.
 *
 * Data messages travel as they are: each side counts them. A text frame that starts with U+0000 is a control
 * frame, unless its second character is U+0000 too: then it is a data message whose first U+0000 was added by
 * the sender (so a user's text may start with U+0000 and still arrive unchanged). A control frame is U+0000, one
 * letter for its kind, and its fields separated by spaces:
 *
 * - `h<received> [<session>]` hello, the client's first frame: the session to resume (none: a new one) and how
 *   many of the server's messages the client received in it;
 * - `w<received> <resumed 1|0> <session> [<reason>]` welcome, the server's answer: how many of the client's
 *   messages the server received, whether the session resumed, its id, and why not;
 * - `a<received>` acknowledgement, either way: "I have received that many of your messages".
 * @module
 */

/** The subprotocol `EdgeSocket` offers and a resume route selects. */
export const RESUME_PROTOCOL = "edgesocket.resume.v1";

/**
 * The subprotocol `EdgeSocket` offers after {@link RESUME_PROTOCOL}, which an edgesocket route without sessions
 * selects when its handler chooses none: browsers, Bun and `ws` fail a handshake that offered subprotocols and got
 * none back. It means a plain connection: no framing.
 */
export const PLAIN_PROTOCOL = "edgesocket.v1";

/**
 * The close code with which a client abandons one socket of a session it means to resume (a connection
 * timeout, `reconnect()`): the server keeps the session, as after a dropped connection.
 */
export const RESUME_LATER = 4900;

/** The kinds of control frame: hello, welcome, acknowledgement. */
export type ControlKind = "h" | "w" | "a";

/** A control frame of `kind` with `fields`. */
export function control(kind: ControlKind, ...fields: (string | number)[]): string {
  return `\0${kind}${fields.join(" ")}`;
}

/**
 * The acknowledgement of `received` messages, `control("a", received)` without the general builder, for a server
 * that sends one per 64 messages (the browser client keeps `control`: its bundle is smaller with one builder).
 */
export function acknowledgement(received: number): string {
  return "\0a" + received;
}

/** A data message as sent: a text that starts with U+0000 gets one more. */
export function escape<T>(data: T): T | string {
  return typeof data === "string" && data.charCodeAt(0) === 0 ? "\0" + data : data;
}

/** Reads a frame: `[kind, ...fields]` for a control frame, else the data message (unescaped). */
export function readFrame<T>(frame: T): T | string | string[] {
  if (typeof frame !== "string" || frame.charCodeAt(0) !== 0) return frame;
  return frame.charCodeAt(1) === 0 ? frame.slice(1) : [frame[1]!, ...frame.slice(2).split(" ")];
}
