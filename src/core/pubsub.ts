import type { Connection } from "./connection.ts";
import { ReadyState } from "./constants.ts";
import type { SendData } from "./message.ts";

/**
 * How one server delivers to its own connections. The core's {@link MemoryTopics} is the
 * default; an adapter whose runtime has topics of its own (Bun) or keeps connections elsewhere
 * (a Durable Object) supplies its own. The {@link PubSub} owns each connection's topic set;
 * an engine only mirrors it.
 */
export interface TopicEngine {
  /** Adds `connection` to `topic`'s subscribers. */
  subscribe(connection: Connection, topic: string): void;
  /** Removes `connection` from `topic`'s subscribers. */
  unsubscribe(connection: Connection, topic: string): void;
  /** Sends `data` to every open subscriber of `topic` on this server except `except`. */
  publish(topic: string, data: SendData, except?: Connection): void;
  /** How many connections of this server are subscribed to `topic`. */
  subscribers(topic: string): number;
}

/**
 * Carries publications between servers (processes, machines). A backplane delivers what
 * other servers publish through `deliver`, and never hands a server back its own publications.
 */
export interface Backplane {
  /**
   * Starts relaying; `deliver` sends a publication of another server to this server's subscribers,
   * `localSubscribers` tells how many connections of this server are in a topic.
   */
  start(deliver: (topic: string, data: SendData) => void, localSubscribers: (topic: string) => number): void;
  /**
   * This server's first subscriber of `topic` joined: relay its publications here from now on.
   * Called again for a topic already relayed, it changes nothing. A backplane without it relays every topic.
   */
  subscribe?(topic: string): void;
  /** This server's last subscriber of `topic` left: stop relaying it here. Called again, it changes nothing. */
  unsubscribe?(topic: string): void;
  /** Hands a publication of this server to the others. Never throws; while disconnected it may drop. */
  publish(topic: string, data: SendData): void;
  /** How many connections of every server, this one included, are subscribed to `topic`. */
  subscribers?(topic: string): Promise<number>;
  /** Stops relaying and releases connections. */
  close(): Promise<void>;
}

/** Options of {@link PubSub.publish}. */
export interface PublishOptions {
  /** Also deliver to the publishing connection when it is subscribed. Default `false`. */
  self?: boolean;
}

const MAX_TOPIC_LENGTH = 256;
const DEFAULT_MAX_TOPICS = 1000;

/** Why a runtime without pub/sub refuses `subscribe` and `publish`. */
export const NO_PUBSUB: string =
  "edgesocket: no pub/sub on this runtime. A plain Cloudflare Worker cannot send on another request's socket: " +
  "host the route in a Durable Object (durableObject() from edgesocket/cloudflare-durable)";

/** Options of a {@link PubSub}. */
export interface PubSubOptions {
  /** The most topics one connection may be in; one more `subscribe` throws a `RangeError`. Default 1000. */
  maxTopicsPerConnection?: number;
  /** Called after a connection's topics changed (a Durable Object saves them in the socket's attachment). */
  onChange?: (connection: Connection) => void;
}

/**
 * Topics of one server: who is subscribed to what (it owns each connection's topic set), local delivery
 * through a {@link TopicEngine}, and, with a {@link Backplane}, delivery to subscribers on other servers.
 */
export class PubSub {
  /** The most topics one connection may be in; one more `subscribe` throws a `RangeError`. */
  readonly maxTopicsPerConnection: number;
  readonly #topicsOf = new WeakMap<Connection, Set<string>>();
  readonly #onChange: ((connection: Connection) => void) | undefined;
  /**
   * Where the subscribers that keep what they are sent (resumable sessions) are, when the runtime's engine is
   * not the in-memory one: a runtime's own engine (Bun's) writes to sockets directly and would bypass them.
   */
  readonly #sessionTopics: MemoryTopics | undefined;

  /** With a `backplane`, starts relaying other servers' publications to this server's subscribers at once. */
  constructor(
    readonly engine: TopicEngine = new MemoryTopics(),
    readonly backplane?: Backplane,
    { maxTopicsPerConnection = DEFAULT_MAX_TOPICS, onChange }: PubSubOptions = {},
  ) {
    this.maxTopicsPerConnection = maxTopicsPerConnection;
    this.#onChange = onChange;
    if (!(engine instanceof MemoryTopics)) this.#sessionTopics = new MemoryTopics();
    backplane?.start((topic, data) => this.#publishHere(topic, data), (topic) => this.subscribers(topic));
  }

  /** The topics `connection` is in; after it closed, the topics it was in (so that `onClose` can announce to them). */
  topicsOf(connection: Connection): string[] {
    const topics = this.#topicsOf.get(connection);
    return topics ? [...topics] : [];
  }

  /** True when `connection` is in `topic`. */
  isSubscribed(connection: Connection, topic: string): boolean {
    return this.#topicsOf.get(connection)?.has(topic) ?? false;
  }

  /** Adds `connection` to `topic`; ignored unless the connection is open. */
  subscribe(connection: Connection, topic: string): void {
    assertTopic(topic);
    if (connection.readyState !== ReadyState.OPEN) return;
    let topics = this.#topicsOf.get(connection);
    if (topics?.has(topic)) return;
    if (topics && topics.size >= this.maxTopicsPerConnection) {
      throw new RangeError(`a connection may be in at most ${this.maxTopicsPerConnection} topics`);
    }
    if (!topics) this.#topicsOf.set(connection, topics = new Set());
    topics.add(topic);
    this.#engineOf(connection).subscribe(connection, topic);
    this.#joined(topic);
    this.#onChange?.(connection);
  }

  /** Removes `connection` from `topic`, if it was in it. */
  unsubscribe(connection: Connection, topic: string): void {
    if (!this.#topicsOf.get(connection)?.delete(topic)) return;
    this.#leave(connection, topic);
    this.#onChange?.(connection);
  }

  /**
   * Puts a connection rebuilt after hibernation back into the topics it was in, as its saved
   * attachment lists them, without saving them again.
   */
  restore(connection: Connection, topics: readonly string[]): void {
    this.#topicsOf.set(connection, new Set(topics));
    for (const topic of topics) {
      this.#engineOf(connection).subscribe(connection, topic);
      this.#joined(topic);
    }
  }

  /**
   * Removes a closed connection from every topic it was in. Its own list stays, so that
   * `onClose` can still see (and announce to) the topics it was in.
   */
  leaveAll(connection: Connection): void {
    for (const topic of this.#topicsOf.get(connection) ?? []) this.#leave(connection, topic);
  }

  /** After a subscribe: this server's first subscriber of `topic` asks the backplane to relay it here. */
  #joined(topic: string): void {
    if (this.backplane?.subscribe && this.subscribers(topic) === 1) this.backplane.subscribe(topic);
  }

  #leave(connection: Connection, topic: string): void {
    this.#engineOf(connection).unsubscribe(connection, topic);
    if (this.backplane?.unsubscribe && this.subscribers(topic) === 0) this.backplane.unsubscribe(topic);
  }

  #engineOf(connection: Connection): TopicEngine {
    return this.#sessionTopics && connection.transport?.replays ? this.#sessionTopics : this.engine;
  }

  /** Delivers to this server's subscribers of `topic` except `except`. */
  #publishHere(topic: string, data: SendData, except?: Connection): void {
    this.engine.publish(topic, data, except);
    this.#sessionTopics?.publish(topic, data, except);
  }

  /**
   * Sends `data` to every subscriber of `topic`, here and (with a backplane) on other servers.
   * `sender`, when given, is left out unless `options.self` is set.
   */
  publish(topic: string, data: SendData, sender?: Connection, options: PublishOptions = {}): void {
    assertTopic(topic);
    this.#publishHere(topic, data, options.self ? undefined : sender);
    this.backplane?.publish(topic, data);
  }

  /** How many connections of this server are subscribed to `topic`. */
  subscribers(topic: string): number {
    return this.engine.subscribers(topic) + (this.#sessionTopics?.subscribers(topic) ?? 0);
  }

  /**
   * How many connections of every server are subscribed to `topic`: the backplane's count when it
   * has one, else this server's.
   */
  subscribersEverywhere(topic: string): Promise<number> {
    assertTopic(topic);
    return this.backplane?.subscribers?.(topic) ?? Promise.resolve(this.subscribers(topic));
  }
}

/** The in-memory engine: a topic index over this process's connections. */
export class MemoryTopics implements TopicEngine {
  readonly #topics = new Map<string, Set<Connection>>();

  /** Adds `connection` to `topic`'s subscribers. */
  subscribe(connection: Connection, topic: string): void {
    let members = this.#topics.get(topic);
    if (!members) this.#topics.set(topic, members = new Set());
    members.add(connection);
  }

  /** Removes `connection` from `topic`'s subscribers; a topic without subscribers is forgotten. */
  unsubscribe(connection: Connection, topic: string): void {
    const members = this.#topics.get(topic);
    if (!members?.delete(connection)) return;
    if (members.size === 0) this.#topics.delete(topic);
  }

  publish(topic: string, data: SendData, except?: Connection): void {
    const members = this.#topics.get(topic);
    if (!members) return;
    for (const connection of members) {
      if (connection === except || connection.readyState !== ReadyState.OPEN) continue;
      connection.deliver(data);
    }
  }

  subscribers(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }
}

function assertTopic(topic: string): void {
  if (typeof topic !== "string" || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) {
    throw new TypeError(`a topic must be a non-empty string of at most ${MAX_TOPIC_LENGTH} characters`);
  }
}
