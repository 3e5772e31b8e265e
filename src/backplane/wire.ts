/**
 * What the Redis backplane sends through Redis: one binary frame per publication, count query or
 * count reply, `[kind][origin: 16 bytes][topic length: 2 bytes][topic][body]`.
 * @module
 */
import { Buffer } from "node:buffer";
import type { SendData } from "../core/message.ts";

/** What a frame carries. */
export const Kind = {
  /** A text publication; the body is its UTF-8. */
  Text: 0,
  /** A binary publication; the body is its bytes. */
  Binary: 1,
  /** "How many subscribers of the topic do you have?"; the body is the query id (4 bytes). */
  CountQuery: 2,
  /** The answer to a count query; the body is the query id and the count (4 bytes each). */
  CountReply: 3,
  /**
   * A process asks the holder of a session to hand it over (the "topic" is the session's key digest; the body
   * the request id and the holder's origin): published on the holder's channel, which the asker also listens to.
   */
  Takeover: 4,
  /** The holder gave the session up (saved in Redis, owned by the asker now); body: request id, asker's origin. */
  Released: 5,
  /** The holder cannot give it up yet (a hook of its handler runs): ask again. */
  Busy: 6,
  /** The process asked does not hold the session. */
  Gone: 7,
} as const;

/** The least body each kind of frame has: a count query its id, a reply its id and count, a session frame its id and target. */
const BODY_BYTES: readonly number[] = [0, 0, 4, 8, 20, 20, 20, 20];

/** One of {@link Kind}'s values. */
export type Kind = typeof Kind[keyof typeof Kind];

/** The random id of one process, so that it can skip its own publications. */
export const ORIGIN_BYTES = 16;
const HEADER_BYTES = 1 + ORIGIN_BYTES + 2;

/** One decoded frame. */
export interface Frame {
  kind: Kind;
  origin: Buffer;
  topic: string;
  body: Buffer;
}

/** A publication of `topic` by `origin`. */
export function publicationFrame(origin: Uint8Array, topic: string, data: SendData): Buffer {
  if (typeof data === "string") return frame(Kind.Text, origin, topic, Buffer.from(data));
  return frame(Kind.Binary, origin, topic, toBuffer(data));
}

/** A count query (`Kind.CountQuery`) or its reply (`Kind.CountReply`, with `count`). */
export function countFrame(kind: Kind, origin: Uint8Array, topic: string, id: number, count = 0): Buffer {
  const body = Buffer.allocUnsafe(kind === Kind.CountReply ? 8 : 4);
  body.writeUInt32BE(id, 0);
  if (kind === Kind.CountReply) body.writeUInt32BE(count, 4);
  return frame(kind, origin, topic, body);
}

/**
 * A frame of the session hand-over (`Kind.Takeover` to `Kind.Gone`) about the session whose keys are named by
 * `digest`: request `id`, sent by `origin` to `target` (the process that is to act on it).
 */
export function sessionFrame(kind: Kind, origin: Uint8Array, digest: string, id: number, target: Uint8Array): Buffer {
  const body = Buffer.allocUnsafe(4 + ORIGIN_BYTES);
  body.writeUInt32BE(id, 0);
  body.set(target, 4);
  return frame(kind, origin, digest, body);
}

/** The request id and target of a session frame. */
export function sessionFrameOf(frame: Frame): { id: number; target: Buffer } {
  return { id: frame.body.readUInt32BE(0), target: frame.body.subarray(4, 4 + ORIGIN_BYTES) };
}

function frame(kind: Kind, origin: Uint8Array, topic: string, body: Buffer): Buffer {
  const topicBytes = Buffer.from(topic);
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header[0] = kind;
  header.set(origin, 1);
  header.writeUInt16BE(topicBytes.length, 1 + ORIGIN_BYTES);
  return Buffer.concat([header, topicBytes, body]);
}

/** The frame in `message`, or `undefined` for something that is not one. */
export function decodeFrame(message: Buffer): Frame | undefined {
  if (message.length < HEADER_BYTES || message[0]! > Kind.Gone) return undefined;
  const topicEnd = HEADER_BYTES + message.readUInt16BE(1 + ORIGIN_BYTES);
  if (topicEnd > message.length) return undefined;
  if (message.length - topicEnd < BODY_BYTES[message[0]!]!) return undefined;
  return {
    kind: message[0] as Kind,
    origin: message.subarray(1, 1 + ORIGIN_BYTES),
    topic: message.subarray(HEADER_BYTES, topicEnd).toString(),
    body: message.subarray(topicEnd),
  };
}

/** The publication a `Text` or `Binary` frame carries. */
export function publicationOf(frame: Frame): SendData {
  if (frame.kind === Kind.Text) return frame.body.toString();
  return frame.body.buffer.slice(frame.body.byteOffset, frame.body.byteOffset + frame.body.length) as ArrayBuffer;
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
