/** Thrown by `send()` on a connection that is closing or closed (as Tornado's `WebSocketClosedError`). */
export class WebSocketClosedError extends Error {
  /** Always `"WebSocketClosedError"`. */
  override name = "WebSocketClosedError";
  /** Makes the error; `message` says what was closed. */
  constructor(message = "the WebSocket is closed") {
    super(message);
  }
}
