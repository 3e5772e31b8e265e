import type { Context } from "hono";
import type { SendData } from "./message.ts";
import { NO_PUBSUB, type PubSub } from "./pubsub.ts";
import { runtimeOf } from "./runtime.ts";

/**
 * Publishes from outside a handler, e.g. an HTTP route: `data` goes to every subscriber of
 * `topic` on the server that serves this request (and, with a backplane, on the other servers).
 *
 * @example
 * ```ts
 * app.post("/rooms/:room/announce", async (c) => {
 *   publish(c, c.req.param("room"), await c.req.text());
 *   return c.text("sent");
 * });
 * ```
 */
export function publish(c: Context, topic: string, data: SendData): void {
  pubsubOf(c).publish(topic, data);
}

/** How many connections of the server serving this request are subscribed to `topic`. */
export function subscribers(c: Context, topic: string): number {
  return pubsubOf(c).subscribers(topic);
}

/**
 * How many connections of every server are subscribed to `topic`, e.g. for a "42 online" page.
 * With a backplane that can count (`redisBackplane()`), it asks the other servers (see its cost
 * there); without one, it is {@link subscribers}.
 *
 * @example
 * ```ts
 * app.get("/rooms/:room/online", async (c) => c.json({ online: await subscribersEverywhere(c, c.req.param("room")) }));
 * ```
 */
export function subscribersEverywhere(c: Context, topic: string): Promise<number> {
  return pubsubOf(c).subscribersEverywhere(topic);
}

function pubsubOf(c: Context): PubSub {
  const pubsub = runtimeOf(c)?.pubsub;
  if (!pubsub) {
    throw new Error(NO_PUBSUB);
  }
  return pubsub;
}
