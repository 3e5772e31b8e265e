import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import {
  countFrame,
  decodeFrame,
  Kind,
  ORIGIN_BYTES,
  publicationFrame,
  sessionFrame,
  sessionFrameOf,
} from "../../src/backplane/wire.ts";

const origin = new Uint8Array(ORIGIN_BYTES).fill(7);

describe("decodeFrame", () => {
  it("reads back what publicationFrame wrote", () => {
    const frame = decodeFrame(publicationFrame(origin, "lobby", "hi"));
    expect([frame?.kind, frame?.topic, frame?.body.toString()]).toEqual([Kind.Text, "lobby", "hi"]);
  });

  it("ignores a count frame too short for its id (and count): anyone may publish on the channel", () => {
    for (const kind of [Kind.CountQuery, Kind.CountReply]) {
      const whole = countFrame(kind, origin, "lobby", 1, 2);
      expect(decodeFrame(whole)?.kind).toBe(kind);
      expect(decodeFrame(whole.subarray(0, whole.length - 1))).toBeUndefined();
    }
    expect(decodeFrame(Buffer.from("not a frame"))).toBeUndefined();
  });

  it("reads back a session frame's digest, request id and target; ignores one cut short", () => {
    const target = new Uint8Array(ORIGIN_BYTES).fill(9);
    for (const kind of [Kind.Takeover, Kind.Released, Kind.Busy, Kind.Gone]) {
      const whole = sessionFrame(kind, origin, "digest", 42, target);
      const frame = decodeFrame(whole)!;
      expect([frame.kind, frame.topic, Buffer.from(frame.origin)]).toEqual([kind, "digest", Buffer.from(origin)]);
      expect(sessionFrameOf(frame)).toEqual({ id: 42, target: Buffer.from(target) });
      expect(decodeFrame(whole.subarray(0, whole.length - 1))).toBeUndefined();
    }
    expect(decodeFrame(Buffer.from([Kind.Gone + 1, ...origin, 0, 0]))).toBeUndefined();
  });
});
