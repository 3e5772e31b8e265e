/**
 * `edgesocket/client`: {@link EdgeSocket}, a drop-in for the browser's `WebSocket` that reconnects by itself,
 * with backoff and jitter, a send queue while offline, and typed messages from a Standard Schema. It imports
 * nothing from the server and runs in browsers, Deno, Bun, workerd and Node (with `ws`).
 *
 * @example
 * ```ts
 * import { EdgeSocket } from "edgesocket/client";
 *
 * const socket = new EdgeSocket("wss://example.com/chat", undefined, { maxDelay: 5000 });
 * socket.addEventListener("reconnecting", (event) => console.log(`attempt ${event.attempt} in ${event.delay} ms`));
 * socket.addEventListener("message", (event) => console.log(event.data));
 * socket.send("hello"); // queued until the connection is open
 * ```
 * @module
 */
export { type BackoffOptions, retryDelay } from "./backoff.ts";
export {
  EdgeSocket,
  type EdgeSocketEventMap,
  type EdgeSocketOptions,
  type Provider,
  type SendData,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./edgesocket.ts";
export {
  EdgeSocketCloseEvent,
  EdgeSocketErrorEvent,
  type EdgeSocketOpenEvent,
  InvalidMessageEvent,
  ReconnectingEvent,
} from "./events.ts";
export { type CloseInfo, defaultShouldReconnect } from "./policy.ts";
export type { MessageSchema, SchemaIssue, SchemaResult } from "./schema.ts";
