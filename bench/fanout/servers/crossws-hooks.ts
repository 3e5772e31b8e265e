/**
 * The crossws hooks of the fan-out benchmark, the same on every runtime: a peer on `/sub/<room>`
 * joins the room and says `ready`; what a peer on `/pub/<room>` sends is published to the room.
 * The Redis sync driver of `crossws/sync` relays publications between the processes.
 * @module
 */
import { createClient } from "@redis/client";
import type { Hooks, Peer } from "crossws";
import { redis, type SyncAdapter } from "crossws/sync";

/** `["sub" | "pub", room]` of a peer's request path. */
function route(peer: Peer): [string, string] {
  const [, kind = "", room = ""] = new URL(peer.request.url).pathname.split("/");
  return [kind, room];
}

/** The hooks of both routes. */
export const hooks: Partial<Hooks> = {
  // crossws scopes pub/sub to the request path by default; both routes share one namespace.
  upgrade: () => ({ namespace: "fanout" }),
  open(peer) {
    const [kind, room] = route(peer);
    if (kind !== "sub") return;
    peer.subscribe(room);
    peer.send("ready");
  },
  message(peer, message) {
    peer.publish(route(peer)[1], message.text());
  },
};

/** crossws's Redis sync over a connected node-redis client (`REDIS_URL`). */
export async function redisSync(url: string | undefined): Promise<SyncAdapter> {
  const client = createClient({ url });
  await client.connect();
  return redis({ client, channel: "fanout" });
}
