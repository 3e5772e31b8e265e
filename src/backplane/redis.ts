/**
 * A Redis backplane: topics reach the subscribers of every Node, Bun or Deno process that
 * serves the app with the same backplane. Each process keeps one publisher and one subscriber
 * connection (`@redis/client`, the maintained node-redis client), relays its own publications
 * through one Redis channel and ignores them when they come back.
 *
 * While Redis is away, local delivery goes on; publications of that time reach only the
 * process's own subscribers (they are not queued), and relaying resumes once Redis is back.
 *
 * @example
 * ```ts
 * import { redisBackplane } from "edgesocket/redis";
 * serve(app, { port: 8000, backplane: redisBackplane() }); // REDIS_URL, default redis://127.0.0.1:6379
 * ```
 * @module
 */
import { createClient } from "@redis/client";
import { Buffer } from "node:buffer";
import process from "node:process";
import type { SendData } from "../core/message.ts";
import type { Backplane } from "../core/pubsub.ts";

/** Options of {@link redisBackplane}. */
export interface RedisBackplaneOptions {
  /** Default: the `REDIS_URL` environment variable, else `redis://127.0.0.1:6379`. */
  url?: string;
  /** The Redis channel all processes of one app share. Default `"edgesocket"`. */
  channel?: string;
  /** Longest wait between two reconnection attempts, in ms. Default 1000. */
  maxReconnectDelay?: number;
}

const TEXT = 0;
const BINARY = 1;
const ORIGIN_BYTES = 16;

/** A backplane over Redis pub/sub; give it to `serve(app, { backplane })` of the Node, Bun or Deno adapter. */
export function redisBackplane(options: RedisBackplaneOptions = {}): Backplane {
  const url = options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const channel = options.channel ?? "edgesocket";
  const maxDelay = options.maxReconnectDelay ?? 1000;
  const origin = crypto.getRandomValues(new Uint8Array(ORIGIN_BYTES));
  const outage = outageReporter(url);
  const publisher = createClient({
    url,
    // Not queued while Redis is away: memory stays bounded and nothing is sent late or twice.
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, maxDelay) },
  });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) {
    client.on("error", outage.failed);
    client.on("ready", outage.recovered);
  }

  return {
    start(deliver) {
      const relay = (message: Buffer) => {
        const publication = decode(message, origin);
        if (publication) deliver(publication.topic, publication.data);
      };
      publisher.connect().catch(outage.failed);
      // node-redis subscribes again by itself after each reconnection.
      subscriber.connect().then(() => subscriber.subscribe(channel, relay, true)).catch(outage.failed);
    },
    publish(topic, data) {
      if (!publisher.isReady) return;
      publisher.publish(channel, encode(origin, topic, data)).catch(outage.failed);
    },
    async close() {
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}

/** `[kind][origin: 16 bytes][topic length: 2 bytes][topic][payload]` */
function encode(origin: Uint8Array, topic: string, data: SendData): Buffer {
  const topicBytes = Buffer.from(topic);
  const payload = typeof data === "string" ? Buffer.from(data) : toBuffer(data);
  const header = Buffer.allocUnsafe(1 + ORIGIN_BYTES + 2);
  header[0] = typeof data === "string" ? TEXT : BINARY;
  header.set(origin, 1);
  header.writeUInt16BE(topicBytes.length, 1 + ORIGIN_BYTES);
  return Buffer.concat([header, topicBytes, payload]);
}

/** The publication in `message`, or `undefined` for one of this process (or not of edgesocket). */
function decode(message: Buffer, origin: Uint8Array): { topic: string; data: SendData } | undefined {
  const headerLength = 1 + ORIGIN_BYTES + 2;
  if (message.length < headerLength) return undefined;
  if (Buffer.compare(message.subarray(1, 1 + ORIGIN_BYTES), origin) === 0) return undefined;
  const topicEnd = headerLength + message.readUInt16BE(1 + ORIGIN_BYTES);
  const topic = message.subarray(headerLength, topicEnd).toString();
  const payload = message.subarray(topicEnd);
  if (message[0] === TEXT) return { topic, data: payload.toString() };
  return { topic, data: payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.length) as ArrayBuffer };
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Logs once when Redis goes away and once when it is back, not on every retry. */
function outageReporter(url: string): { failed: (error: unknown) => void; recovered: () => void } {
  let down = false;
  const where = new URL(url).host;
  return {
    failed(error) {
      if (down) return;
      down = true;
      console.error(
        `edgesocket: Redis at ${where} unreachable, delivering locally only until it is back:`,
        String(error),
      );
    },
    recovered() {
      if (!down) return;
      down = false;
      console.error(`edgesocket: Redis at ${where} is back, relaying topics again`);
    },
  };
}
