/**
 * The edgesocket app used by every `*-edgesocket` bench server: the same classes on every runtime.
 * `/websocketserver` echoes; for the broadcast scenario, `/subscribe` joins the topic `bench` and
 * whatever arrives on `/publish` is published to it.
 * @module
 */
import { Hono } from "hono";
import { type Message, websocket, WebSocketHandler } from "../../src/index.ts";

export class Echo extends WebSocketHandler {
  override onMessage(message: Message): void {
    this.send(message);
  }
}

/** The topic of the broadcast scenario. */
export const BENCH_TOPIC = "bench";

export class Subscriber extends WebSocketHandler {
  override open(): void {
    this.subscribe(BENCH_TOPIC);
  }
}

export class Publisher extends WebSocketHandler {
  override onMessage(message: Message): void {
    this.publish(BENCH_TOPIC, message);
  }
}

export const app = new Hono();
app.get("/websocketserver", websocket(Echo));
app.get("/subscribe", websocket(Subscriber));
app.get("/publish", websocket(Publisher));
