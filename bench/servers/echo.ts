/**
 * The edgesocket echo used by every `*-edgesocket` bench server: the same class on every runtime.
 * @module
 */
import { Hono } from "hono";
import { type Message, websocket, WebSocketHandler } from "../../src/index.ts";

export class Echo extends WebSocketHandler {
  override onMessage(message: Message): void {
    this.send(message);
  }
}

export const app = new Hono();
app.get("/websocketserver", websocket(Echo));
