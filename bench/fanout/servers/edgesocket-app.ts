/**
 * The edgesocket app of the fan-out benchmark, the same on Node, Bun and Deno:
 * `/sub/:room` joins the room and says `ready`; whatever arrives on `/pub/:room` is published to the room.
 * `/health` answers the process id, so that the runner can pin the process and read its CPU time.
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

/** The app; `pid` is the process id its `/health` route answers. */
export function fanoutApp(pid: number): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.text(String(pid)));
  app.get("/sub/:room", websocket(Subscriber));
  app.get("/pub/:room", websocket(Publisher));
  return app;
}
