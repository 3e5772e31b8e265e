/**
 * The reconnect scenario every client runtime plays (Node with `ws`, Deno, Bun): send "before" once open; when the
 * connection drops, send "offline 1".."offline 3" while it is down; once "offline 3" is echoed, close for good.
 * Every event is reported as one JSON-able record, so that a test can follow it in or out of process.
 */
import { EdgeSocket, type WebSocketConstructor } from "../../src/client/index.ts";

/** One event, as the scenario reports it. */
export type Report =
  | { event: "open" }
  | { event: "message"; data: string }
  | { event: "reconnecting"; attempt: number; delay: number }
  | { event: "close"; code: number; willRetry: boolean };

/** Plays the scenario against `url`; `report` sees every event. */
export function playReconnectScenario(
  url: string,
  report: (report: Report) => void,
  WebSocket?: WebSocketConstructor,
): EdgeSocket {
  const socket = new EdgeSocket(url, undefined, { minDelay: 100, maxDelay: 500, WebSocket });
  let offlineSent = false;
  socket.addEventListener("open", () => {
    report({ event: "open" });
    if (!offlineSent) socket.send("before");
  });
  socket.addEventListener("message", (event) => {
    const data = String(event.data);
    report({ event: "message", data });
    if (data === "offline 3") socket.close(1000, "done");
  });
  socket.addEventListener("reconnecting", ({ attempt, delay }) => {
    report({ event: "reconnecting", attempt, delay });
    if (offlineSent) return;
    offlineSent = true;
    for (const n of [1, 2, 3]) socket.send(`offline ${n}`);
  });
  socket.addEventListener("close", ({ code, willRetry }) => report({ event: "close", code, willRetry }));
  return socket;
}
