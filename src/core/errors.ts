/** Thrown by `send()` on a connection that is closing or closed (as Tornado's `WebSocketClosedError`). */
export class WebSocketClosedError extends Error {
  override name = "WebSocketClosedError";
  constructor(message = "the WebSocket is closed") {
    super(message);
  }
}
