import { Hono } from "hono";
import { type Message, websocket, WebSocketHandler } from "../index.ts";
import { echoPage } from "./pages.ts";

/** The seed's Tornado handler, line for line. */
export class MyWebSocketServer extends WebSocketHandler {
  override open(): void {
    console.log("New connection");
  }

  override onMessage(message: Message): void {
    console.log(`Message received: ${typeof message === "string" ? message : `${message.byteLength} bytes`}`);
    this.send(message);
  }

  override onClose(): void {
    console.log("Connection closed");
  }
}

/** The demo app, the same on every runtime: the echo page at `/`, its socket at `/websocketserver`. */
export const app = new Hono();
app.get("/", (c) => c.html(echoPage));
// `all`, not `get`, so that other methods get 405 rather than 404, as from Tornado.
app.all("/websocketserver", websocket(MyWebSocketServer));

/** The demo's port: `PORT` from the environment, else 8000 as in the seed. */
export function demoPort(env: { PORT?: string } | undefined): number {
  const port = Number(env?.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid PORT ${env?.PORT}`);
  return port;
}
