/**
 * For the raw `ws` reference servers: a `send` that writes what one socket sends in a turn of the event loop
 * together, as the Node adapter does (the turn's first message is written at once and corks the TCP socket, the
 * turn's end uncorks it), without the adapter's 16 KiB flush (an echo's batch stays under it).
 * @module
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** `ws.send` on `ws`, whose TCP socket is `socket`, with the turn's messages written together. */
export function sendByTurn(ws: WebSocket, socket: Duplex): (message: string | Buffer) => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return (message) => {
    ws.send(message);
    if (corked) return;
    corked = true;
    socket.cork();
    process.nextTick(uncork);
  };
}
