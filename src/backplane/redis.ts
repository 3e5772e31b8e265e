/**
 * A Redis backplane: topics reach the subscribers of every Node, Bun or Deno process that serves
 * the app with the same backplane, on one Redis server or on a Redis Cluster (sharded pub/sub,
 * Redis 7+). Each topic has its own Redis channel; a process subscribes to it while it has a
 * subscriber of the topic, so it receives only the traffic of its own rooms. Changes are sent in
 * batches (one command per batch on a server, one per slot group on a cluster).
 *
 * While Redis (or a shard) is away, local delivery goes on; publications of that time reach only the
 * process's own subscribers (they are not queued), and relaying resumes once it is back, with every
 * subscription restored.
 *
 * @example
 * ```ts
 * import { redisBackplane } from "edgesocket/redis";
 * serve(app, { port: 8000, backplane: redisBackplane() }); // REDIS_URL, default redis://127.0.0.1:6379
 * serve(app, { port: 8000, backplane: redisBackplane({ cluster: ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"] }) });
 * ```
 *
 * {@link redisSessions} shares resumable sessions through the same Redis server: a client that comes back to
 * another process resumes there.
 *
 * ```ts
 * const backplane = redisBackplane();
 * serve(app, { port: 8000, backplane, sessions: redisSessions(backplane) });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import type { SendData } from "../core/message.ts";
import type { Backplane } from "../core/pubsub.ts";
import { BACKPLANE_HOOKS, type BackplaneHooks } from "./hooks.ts";
export { redisSessions, type RedisSessionsOptions } from "./sessions.ts";
import { Subscriptions } from "./subscriptions.ts";
import { clusterTransport, type Listener, serverTransport, type TransportEvents } from "./transports.ts";
import { countFrame, decodeFrame, type Frame, Kind, ORIGIN_BYTES, publicationFrame, publicationOf } from "./wire.ts";

/** Options of {@link redisBackplane}. */
export interface RedisBackplaneOptions {
  /** One Redis server. Default: the `REDIS_URL` environment variable, else `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * A Redis Cluster (Redis 7+) instead of one server: the URLs of some of its nodes (`redis://host:port`),
   * from which the rest is discovered. Topics use sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`).
   */
  cluster?: string[];
  /** The start of every channel name: processes of one app share it. Default `"edgesocket"`. */
  prefix?: string;
  /** Longest wait between two reconnection attempts, in ms. Default 1000. */
  maxReconnectDelay?: number;
  /** How long joins and leaves are collected before they are sent to Redis together, in ms. Default 5. */
  batchWindow?: number;
  /** How long {@link Backplane.subscribers} waits for the other processes' answers, in ms. Default 1000. */
  countTimeout?: number;
}

/**
 * Topic channels are spread over this many hash tags: a cluster batch costs at most one command per
 * tag, and the tags' slots spread the topics over every shard.
 */
const SLOT_GROUPS = 1024;

/** A backplane over Redis pub/sub; give it to `serve(app, { backplane })` of the Node, Bun or Deno adapter. */
export function redisBackplane(options: RedisBackplaneOptions = {}): Backplane {
  const prefix = options.prefix ?? "edgesocket";
  const names = channelNames(prefix);
  const reconnect = { maxReconnectDelay: options.maxReconnectDelay ?? 1000 };
  const origin = crypto.getRandomValues(new Uint8Array(ORIGIN_BYTES));
  const originHex = Buffer.from(origin).toString("hex");
  const outage = outageReporter();
  let subscriptions: Subscriptions | undefined;
  const events: TransportEvents = {
    failed: outage.failed,
    ready(where) {
      outage.recovered(where);
      subscriptions?.retry();
    },
  };
  const transport = options.cluster
    ? clusterTransport(options.cluster, reconnect, events)
    : serverTransport(options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379", reconnect, events);
  const counts = new CountQueries(options.countTimeout ?? 1000);
  const send = (channel: string, message: Buffer) => {
    if (transport.isReady) transport.publish(channel, message).catch((error) => outage.failed(transport.where, error));
  };
  /** Topic channels this process's subscribers want, and channels held for a session's hand-over (with counts). */
  const wanted = new Set<string>();
  const held = new Map<string, number>();
  const hooks: BackplaneHooks = {
    origin,
    originHex,
    prefix,
    singleServer: !options.cluster,
    command(args, buffers) {
      if (!transport.command) return Promise.reject(new Error("edgesocket: sessions need one Redis server"));
      return transport.command(args, buffers);
    },
    publish: send,
    async hold(channels) {
      for (const channel of channels) {
        held.set(channel, (held.get(channel) ?? 0) + 1);
        subscriptions?.add(channel);
      }
      await subscriptions?.flush();
      return () => {
        for (const channel of channels) {
          const count = held.get(channel)! - 1;
          if (count > 0) held.set(channel, count);
          else if (held.delete(channel) && !wanted.has(channel)) subscriptions?.delete(channel);
        }
      };
    },
    topicChannel: (topic) => names.topic(topic),
    processChannel: (id) => names.replies(id),
    observer: undefined,
  };

  const backplane: Backplane = {
    start(deliver, localSubscribers) {
      if (subscriptions) throw new Error("edgesocket: a Redis backplane serves one server; make one per serve()");
      counts.local = localSubscribers;
      const listener = receiver({ origin, names, counts, deliver, send, hooks });
      subscriptions = new Subscriptions(async (subscribe, unsubscribe) => {
        await Promise.all([
          subscribe.length ? transport.subscribe(subscribe, listener) : undefined,
          unsubscribe.length ? transport.unsubscribe(unsubscribe, listener) : undefined,
        ]);
      }, options.batchWindow ?? 5);
      subscriptions.add(names.replies(originHex));
      transport.connect();
    },
    subscribe(topic) {
      const channel = names.topic(topic);
      wanted.add(channel);
      subscriptions?.add(channel);
    },
    unsubscribe(topic) {
      const channel = names.topic(topic);
      wanted.delete(channel);
      if (!held.has(channel)) subscriptions?.delete(channel);
    },
    publish(topic, data) {
      hooks.observer?.published(topic, data);
      send(names.topic(topic), publicationFrame(origin, topic, data));
    },
    async subscribers(topic) {
      if (!transport.isReady) return counts.local(topic);
      const channel = names.topic(topic);
      const processes = await transport.subscriberConnections(channel).catch(() => 0);
      return counts.ask(topic, processes, (id) => send(channel, countFrame(Kind.CountQuery, origin, topic, id)));
    },
    async close() {
      subscriptions?.stop();
      counts.stop();
      await transport.close();
    },
  };
  return Object.assign(backplane, { [BACKPLANE_HOOKS]: hooks });
}

/** The Redis channel names of one app. */
interface ChannelNames {
  /** `prefix:{n}:topic`, the channel of a topic. */
  topic(topic: string): string;
  /**
   * `prefix-reply:{n}:<process id>`, where a process receives the answers to its count queries and the frames
   * of session hand-overs; `id` in hex.
   */
  replies(id: string): string;
}

function channelNames(prefix: string): ChannelNames {
  return {
    topic: (topic) => `${prefix}:${slotTag(topic)}:${topic}`,
    replies: (id) => `${prefix}-reply:${slotTag(id)}:${id}`,
  };
}

/**
 * What a process does with each frame Redis hands it: delivers the publications of other processes,
 * answers other processes' count queries, and collects the answers to its own.
 */
function receiver({ origin, names, counts, deliver, send, hooks }: {
  origin: Uint8Array;
  names: ChannelNames;
  counts: CountQueries;
  deliver: (topic: string, data: SendData) => void;
  send: (channel: string, message: Buffer) => void;
  hooks: BackplaneHooks;
}): Listener {
  return (message) => {
    const frame = decodeFrame(message);
    if (!frame) return;
    const own = Buffer.compare(frame.origin, origin) === 0;
    if (frame.kind === Kind.Text || frame.kind === Kind.Binary) {
      if (own) return;
      hooks.observer?.received(frame);
      deliver(frame.topic, publicationOf(frame));
    } else if (frame.kind >= Kind.Takeover) {
      hooks.observer?.session(frame, own);
    } else if (frame.kind === Kind.CountReply || own) {
      counts.answered(frame);
    } else {
      const count = counts.local(frame.topic);
      send(
        names.replies(frame.origin.toString("hex")),
        countFrame(Kind.CountReply, origin, frame.topic, frame.body.readUInt32BE(0), count),
      );
    }
  };
}

/**
 * The backplane the environment asks for: a cluster when `REDIS_CLUSTER` lists its nodes
 * (`host:port,host:port,…`), one server when `REDIS_URL` is set, else none (this process only).
 */
export function redisBackplaneFromEnv(env: Record<string, string | undefined>): Backplane | undefined {
  const nodes = env.REDIS_CLUSTER?.split(",").map((node) => node.trim()).filter(Boolean);
  if (nodes?.length) return redisBackplane({ cluster: nodes.map((node) => `redis://${node}`) });
  if (env.REDIS_URL) return redisBackplane({ url: env.REDIS_URL });
  return undefined;
}

/**
 * Counts across processes: a query is published on the topic's channel, so only the processes that
 * have subscribers of the topic receive it; each answers with its own count. The asker knows how many
 * to expect from `PUBSUB NUMSUB` (`SHARDNUMSUB`) and waits for them, or `timeout` ms at most.
 */
class CountQueries {
  readonly #pending = new Map<number, { total: number; missing: number; done: (total: number) => void }>();
  #next = 0;
  /** This process's count of a topic. */
  local: (topic: string) => number = () => 0;

  constructor(readonly timeout: number) {}

  /** Asks `processes` subscribed processes (this one included, if subscribed) through `publish`. */
  ask(topic: string, processes: number, publish: (id: number) => void): Promise<number> {
    const total = this.local(topic);
    if (processes === 0) return Promise.resolve(total);
    const id = this.#next = (this.#next + 1) >>> 0;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#finish(id), this.timeout);
      const done = (sum: number) => (clearTimeout(timer), resolve(sum));
      this.#pending.set(id, { total, missing: processes, done });
      publish(id);
    });
  }

  /** A reply, or this process's own query come back (counted already, as `local`). */
  answered(frame: Frame): void {
    const query = this.#pending.get(frame.body.readUInt32BE(0));
    if (!query) return;
    if (frame.kind === Kind.CountReply) query.total += frame.body.readUInt32BE(4);
    if (--query.missing === 0) this.#finish(frame.body.readUInt32BE(0));
  }

  /** Answers every pending query with what it has. */
  stop(): void {
    for (const id of [...this.#pending.keys()]) this.#finish(id);
  }

  #finish(id: number): void {
    const query = this.#pending.get(id);
    if (!query) return;
    this.#pending.delete(id);
    query.done(query.total);
  }
}

/** `{n}`: one of {@link SLOT_GROUPS} hash tags, chosen by an FNV-1a hash of `name`. */
function slotTag(name: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return `{${(hash >>> 0) % SLOT_GROUPS}}`;
}

/** Logs once when a Redis address goes away and once when it is back, not on every retry. */
function outageReporter(): { failed: (where: string, error: unknown) => void; recovered: (where: string) => void } {
  const down = new Set<string>();
  return {
    failed(where, error) {
      if (down.has(where)) return;
      down.add(where);
      console.error(
        `edgesocket: Redis at ${where} unreachable, delivering locally only until it is back:`,
        String(error),
      );
    },
    recovered(where) {
      if (!down.delete(where)) return;
      console.error(`edgesocket: Redis at ${where} is back, relaying topics again`);
    },
  };
}
