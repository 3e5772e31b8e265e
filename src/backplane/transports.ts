/**
 * The two ways the Redis backplane talks to Redis through node-redis (`@redis/client`): one server
 * (`SUBSCRIBE`/`PUBLISH` on two connections) or a Redis Cluster (`SSUBSCRIBE`/`SPUBLISH`, sharded
 * pub/sub: each channel lives on the shard that owns its slot).
 * @module
 */
import { Buffer } from "node:buffer";

const { createClient, createCluster, RESP_TYPES } = await importRedisClient();

/** Replies whose strings stay bytes (`Buffer`): what {@link Transport.command} with `buffers` reads. */
const BUFFER_REPLIES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** node-redis, an optional peer dependency: installed by those who use the backplane, with a clear error if not. */
async function importRedisClient(): Promise<typeof import("@redis/client")> {
  try {
    return await import("@redis/client");
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new Error("edgesocket/redis needs @redis/client: npm install @redis/client", { cause: error });
  }
}

/** Receives every message of every subscribed channel. */
export type Listener = (message: Buffer, channel: Buffer) => void;

/** What happens to the connections, reported by address (`host:port`). */
export interface TransportEvents {
  /** A connection failed or is retrying. */
  failed(where: string, error: unknown): void;
  /** A connection is ready (again): lost subscriptions may need sending again. */
  ready(where: string): void;
}

/** Pub/sub over one Redis server or one Redis Cluster. */
export interface Transport {
  /** Where it connects, for logs. */
  readonly where: string;
  /** Connects, and keeps reconnecting until `close()`. */
  connect(): void;
  /** Whether a publication can be sent now. */
  readonly isReady: boolean;
  /** Subscribes `listener` to `channels`, in as few commands as the server allows. */
  subscribe(channels: string[], listener: Listener): Promise<void>;
  /** Unsubscribes `listener` from `channels`. */
  unsubscribe(channels: string[], listener: Listener): Promise<void>;
  /** Publishes `message` on `channel`. */
  publish(channel: string, message: Buffer): Promise<unknown>;
  /** How many connections subscribe to `channel` (`PUBSUB NUMSUB`, or `SHARDNUMSUB` on its shard). */
  subscriberConnections(channel: string): Promise<number>;
  /**
   * Sends a command on the connection that publishes, after what was published before it (one server only;
   * absent on a cluster). With `buffers`, the strings of its reply are `Buffer`s.
   */
  command?(args: (string | Buffer)[], buffers?: boolean): Promise<unknown>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** How the transports reconnect. */
export interface ReconnectOptions {
  /** Longest wait between two reconnection attempts, in ms. */
  maxReconnectDelay: number;
}

/** The most channels in one `SUBSCRIBE`/`UNSUBSCRIBE`: a bounded command, however large the batch. */
const CHANNELS_PER_COMMAND = 1000;

/** One Redis server: a publisher connection and a subscriber connection. */
export function serverTransport(url: string, options: ReconnectOptions, events: TransportEvents): Transport {
  const where = new URL(url).host;
  const publisher = createClient({
    url,
    // Not queued while Redis is away: memory stays bounded and nothing is sent late or twice.
    disableOfflineQueue: true,
    socket: { reconnectStrategy: backoff(options) },
  });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) {
    client.on("error", (error) => events.failed(where, error));
    client.on("ready", () => events.ready(where));
  }
  return {
    where,
    connect() {
      for (const client of [publisher, subscriber]) client.connect().catch((error) => events.failed(where, error));
    },
    get isReady() {
      return publisher.isReady;
    },
    async subscribe(channels, listener) {
      for (const chunk of chunks(channels)) await subscriber.subscribe(chunk, listener, true);
    },
    async unsubscribe(channels, listener) {
      for (const chunk of chunks(channels)) await subscriber.unsubscribe(chunk, listener, true);
    },
    publish: (channel, message) => publisher.publish(channel, message),
    async subscriberConnections(channel) {
      return (await publisher.pubSubNumSub(channel))[channel] ?? 0;
    },
    command: (args, buffers) => publisher.sendCommand(args, buffers ? BUFFER_REPLIES : undefined),
    async close() {
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}

/**
 * A Redis Cluster: node-redis keeps one connection per master for commands and one per master for
 * sharded subscriptions. `SSUBSCRIBE` takes channels of one slot only: the backplane names its
 * channels with a hash tag (`{bucket}`), and a batch is sent as one command per bucket.
 */
export function clusterTransport(rootNodes: string[], options: ReconnectOptions, events: TransportEvents): Transport {
  const cluster = createCluster({
    rootNodes: rootNodes.map((url) => ({ url })),
    defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: backoff(options) } },
    // After a node stops answering, look for its replacement (a promoted replica) this soon.
    topologyRefreshOnReconnectionAttemptStrategy: options.maxReconnectDelay,
  });
  const where = `cluster ${rootNodes.map((url) => new URL(url).host).join(",")}`;
  const nodeAddress = (node: { host: string; port: number }) => `${node.host}:${node.port}`;
  cluster.on("error", (error) => events.failed(where, error));
  cluster.on("connect", () => events.ready(where));
  cluster.on("node-error", (error, node) => events.failed(nodeAddress(node), error));
  cluster.on("node-ready", (node) => {
    events.ready(nodeAddress(node));
    if (cluster.isReady) events.ready(where);
  });
  let closed = false;
  const connect = () => {
    cluster.connect().catch((error) => {
      events.failed(where, error);
      if (!closed) setTimeout(connect, options.maxReconnectDelay);
    });
  };
  return {
    where,
    connect,
    get isReady() {
      return cluster.isReady;
    },
    async subscribe(channels, listener) {
      await Promise.all(bySlotGroup(channels).map((group) => cluster.sSubscribe(group, listener, true)));
    },
    async unsubscribe(channels, listener) {
      await Promise.all(bySlotGroup(channels).map((group) => cluster.sUnsubscribe(group, listener, true)));
    },
    publish: (channel, message) => cluster.sPublish(channel, message),
    async subscriberConnections(channel) {
      // Asked of the master that owns the channel's slot, where its subscribers are.
      const owner = await cluster.getNodeClientForKey(channel);
      return (await owner.pubSubShardNumSub(channel))[channel] ?? 0;
    },
    async close() {
      closed = true;
      if (cluster.isOpen) await cluster.close().catch(() => cluster.destroy());
    },
  };
}

function backoff({ maxReconnectDelay }: ReconnectOptions): (retries: number) => number {
  return (retries) => reconnectDelay(retries, maxReconnectDelay);
}

function chunks(channels: string[]): string[][] {
  const result: string[][] = [];
  for (let i = 0; i < channels.length; i += CHANNELS_PER_COMMAND) {
    result.push(channels.slice(i, i + CHANNELS_PER_COMMAND));
  }
  return result;
}

/** Channels grouped by their hash tag (so by slot), each group cut into bounded commands. */
function bySlotGroup(channels: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const channel of channels) {
    const tag = channel.slice(channel.indexOf("{"), channel.indexOf("}") + 1);
    let group = groups.get(tag);
    if (!group) groups.set(tag, group = []);
    group.push(channel);
  }
  return [...groups.values()].flatMap(chunks);
}

/** The wait before reconnection attempt `retries` (from 0): 50 ms, doubling, at most `max` ms. */
export function reconnectDelay(retries: number, max: number): number {
  return Math.min(50 * 2 ** retries, max);
}
