// The edgesocket fan-out app, shared by the Node, Bun and Deno entries (each passes the library in):
// a client of /fanout/:room is in the room; each message it sends is published to the room.
export function fanoutApp({ Hono, websocket, WebSocketHandler }) {
  class FanoutRoom extends WebSocketHandler {
    open(params) {
      this.subscribe(params.room);
    }

    onMessage(message) {
      this.publish(this.params.room, message);
    }
  }
  const app = new Hono();
  app.get("/fanout/:room", websocket(FanoutRoom, { maxMessagesPerSecond: 1_000_000 }));
  return app;
}
