/**
 * The edgesocket app of the fan-out benchmark, the same on Node, Bun and Deno:
 * `/sub/:room` joins the room and says `ready`; whatever arrives on `/pub/:room` is published to the room.
 * @module
 */
import { Hono } from "hono";
import { type Message, websocket, WebSocketHandler } from "../../../src/index.ts";

class Subscriber extends WebSocketHandler {
  override open(params: { room?: string }): void {
    this.subscribe(params.room!);
    this.send("ready");
  }
}

class Publisher extends WebSocketHandler {
  override onMessage(message: Message): void {
    this.publish(this.params.room!, message);
  }
}

/** The app, with `/health` for the runner. */
export const fanoutApp = new Hono();
fanoutApp.get("/health", (c) => c.text("ok"));
fanoutApp.get("/sub/:room", websocket(Subscriber));
fanoutApp.get("/pub/:room", websocket(Publisher));
