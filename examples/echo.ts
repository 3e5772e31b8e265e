/**
 * The seed's Tornado `MyWebSocketServer`, line for line (docs/from-tornado.md lists both side by side).
 *
 * Run: `deno run --allow-net --allow-env examples/echo.ts`, then connect to `ws://localhost:8000/websocketserver`.
 * @module
 */
import { type Message, websocket, WebSocketHandler } from "edgesocket";
import { Hono } from "hono";

/** Logs the connection's life and echoes every message. */
export class MyWebSocketServer extends WebSocketHandler {
  override open(): void {
    console.log("New connection");
  }

  override onMessage(message: Message): void {
    console.log(`Message received: ${message}`);
    this.send(message);
  }

  override onClose(): void {
    console.log("Connection closed");
  }
}

/** The app: the handler at `/websocketserver`. */
export const app = new Hono();
app.all("/websocketserver", websocket(MyWebSocketServer));

if (import.meta.main) {
  const { serve } = await import("edgesocket/deno");
  serve(app, { port: Number(Deno.env.get("PORT") ?? 8000) });
}
