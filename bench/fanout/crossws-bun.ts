// crossws on Bun with its Redis sync (crossws/sync, one shared channel): a client of /fanout/:room is in
// the room; each message it sends is published to the rest of the room.
import { createClient } from "@redis/client";
import crossws from "crossws/adapters/bun";
import { redis } from "crossws/sync";

const client = createClient({ url: process.env.REDIS_URL });
await client.connect();
const ws = crossws({
  hooks: {
    open(peer) {
      peer.subscribe(roomOf(peer.request.url));
    },
    message(peer, message) {
      peer.publish(roomOf(peer.request.url), message.text());
    },
  },
  sync: redis({ client: client as never, channel: "fanout" }),
});

function roomOf(url: string): string {
  return new URL(url).pathname.split("/")[2]!;
}

Bun.serve({
  port: Number(process.env.PORT),
  hostname: "127.0.0.1",
  websocket: ws.websocket,
  fetch: (request, server) => ws.handleUpgrade(request, server),
});
