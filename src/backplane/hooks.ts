/**
 * What a Redis backplane lends to the sessions engine that shares it (`redisSessions(backplane)`): its process
 * id, its connections, and the order in which its subscriber connection receives frames, on which the hand-over
 * of a session relies (see sessions.ts).
 * @module
 */
import type { Buffer } from "node:buffer";
import type { SendData } from "../core/message.ts";
import type { Frame } from "./wire.ts";

/** Where a Redis backplane keeps its {@link BackplaneHooks}. */
export const BACKPLANE_HOOKS: unique symbol = Symbol("edgesocket.redisBackplaneHooks");

/** The hooks of `backplane` if it is a Redis backplane. */
export function hooksOf(backplane: object): BackplaneHooks | undefined {
  return (backplane as { [BACKPLANE_HOOKS]?: BackplaneHooks })[BACKPLANE_HOOKS];
}

/** What the sessions engine is told of the backplane's traffic, as it happens. */
export interface TrafficObserver {
  /** A publication of another process arrived, before this process delivers it. */
  received(frame: Frame): void;
  /** This process publishes `data` on `topic`, in the order its publications go to Redis. */
  published(topic: string, data: SendData): void;
  /** A session frame arrived (`Kind.Takeover` to `Kind.Gone`); `own` when this process sent it. */
  session(frame: Frame, own: boolean): void;
}

/** The parts of a Redis backplane a sessions engine uses. */
export interface BackplaneHooks {
  /** This process's random id (16 bytes), and its hex form. */
  readonly origin: Uint8Array;
  readonly originHex: string;
  /** The start of every name of this app in Redis. */
  readonly prefix: string;
  /** One Redis server (a cluster does not keep one order across its shards). */
  readonly singleServer: boolean;
  /** Sends a command after what this process published before it; `buffers`: reply strings as `Buffer`s. */
  command(args: (string | Buffer)[], buffers?: boolean): Promise<unknown>;
  /** Publishes a frame on `channel` (dropped while Redis is away). */
  publish(channel: string, frame: Buffer): void;
  /**
   * Keeps `channels` subscribed, whatever this process's own subscribers do, until the returned function is
   * called; resolves once Redis has confirmed the subscriptions.
   */
  hold(channels: string[]): Promise<() => void>;
  /** The channel of a topic. */
  topicChannel(topic: string): string;
  /** The channel of a process (where its count replies and session frames arrive), by its hex id. */
  processChannel(originHex: string): string;
  /** Who is told of the traffic: the sessions engine, once it starts. */
  observer: TrafficObserver | undefined;
}
