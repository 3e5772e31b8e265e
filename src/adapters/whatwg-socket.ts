/**
 * Listeners for sockets that are WHATWG `WebSocket`s (Deno's, workerd's): module-level functions
 * with a back-reference on the socket, rather than closures per connection.
 * @module
 */
import { CloseCode } from "../core/constants.ts";
import type { SocketEvents } from "../core/connection.ts";

const CONNECTION = Symbol("edgesocket.connection");

interface Peer extends WebSocket {
  [CONNECTION]: SocketEvents;
}

/** Forwards `socket`'s message and close events to `events`; binary arrives as `ArrayBuffer`. */
export function forwardEvents(socket: WebSocket, events: SocketEvents): void {
  (socket as Peer)[CONNECTION] = events;
  socket.binaryType = "arraybuffer";
  socket.addEventListener("message", peerOnMessage);
  socket.addEventListener("close", peerOnClose);
}

/** Opens the socket's events when `socket` reports its open event (Deno; workerd has none). */
export function openOnOpenEvent(socket: WebSocket): void {
  socket.addEventListener("open", peerOnOpen);
}

function peerOnOpen(this: WebSocket): void {
  (this as Peer)[CONNECTION].open(this);
}

function peerOnMessage(this: WebSocket, event: MessageEvent): void {
  (this as Peer)[CONNECTION].receive(event.data);
}

function peerOnClose(this: WebSocket, event: CloseEvent): void {
  // Deno reports a dropped TCP connection as code 0.
  (this as Peer)[CONNECTION].closed(event.code || CloseCode.ABNORMAL, event.reason);
}
