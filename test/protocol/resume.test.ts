import { describe, expect, it } from "vitest";
import {
  acknowledgement,
  control,
  escape,
  PLAIN_PROTOCOL,
  readFrame,
  RESUME_LATER,
  RESUME_PROTOCOL,
} from "../../src/protocol/resume.ts";

describe("the resume protocol's names", () => {
  it("subprotocols edgesocket.resume.v1 and edgesocket.v1; RESUME_LATER is 4900, a close code browsers may send", () => {
    expect([RESUME_PROTOCOL, PLAIN_PROTOCOL, RESUME_LATER]).toEqual(["edgesocket.resume.v1", "edgesocket.v1", 4900]);
  });
});

describe("control", () => {
  it("is U+0000, the kind, then the fields separated by spaces", () => {
    expect(control("h", 0, "")).toBe("\0h0 ");
    expect(control("h", 12, "abc")).toBe("\0h12 abc");
    expect(control("w", 3, 1, "id")).toBe("\0w3 1 id");
    expect(control("w", 0, 0, "id", "session not found: expired")).toBe("\0w0 0 id session not found: expired");
    expect(control("a", 64)).toBe("\0a64");
  });
});

describe("acknowledgement", () => {
  it("is the acknowledgement control frame, as control builds it", () => {
    for (const received of [0, 1, 64, 123_456, Number.MAX_SAFE_INTEGER]) {
      expect(acknowledgement(received)).toBe(control("a", received));
    }
    expect(readFrame(acknowledgement(70))).toEqual(["a", "70"]);
  });
});

describe("readFrame", () => {
  it("reads a control frame as [kind, ...fields]", () => {
    expect(readFrame("\0h0 ")).toEqual(["h", "0", ""]);
    expect(readFrame("\0h5 abc")).toEqual(["h", "5", "abc"]);
    expect(readFrame("\0a64")).toEqual(["a", "64"]);
    expect(readFrame("\0w1 0 id why not")).toEqual(["w", "1", "0", "id", "why", "not"]);
    expect(readFrame("\0")).toEqual([undefined, ""]);
  });

  it("leaves a data message as it is: text not starting with U+0000, and binary", () => {
    const binary = new Uint8Array([0, 0, 1]).buffer;
    expect(readFrame(binary)).toBe(binary);
    expect(readFrame("")).toBe("");
    expect(readFrame("a\0b")).toBe("a\0b");
  });

  it("unescapes a data message that starts with U+0000 U+0000", () => {
    expect(readFrame("\0\0")).toBe("\0");
    expect(readFrame("\0\0h0 id")).toBe("\0h0 id");
    expect(readFrame("\0\0\0")).toBe("\0\0");
  });
});

describe("escape", () => {
  it("adds one U+0000 to a text that starts with one, and nothing to anything else", () => {
    expect(escape("\0")).toBe("\0\0");
    expect(escape("\0a5")).toBe("\0\0a5");
    expect(escape("plain")).toBe("plain");
    expect(escape("")).toBe("");
    const bytes = new Uint8Array([0]);
    expect(escape(bytes)).toBe(bytes);
  });

  it("any user's text comes back unchanged through escape and readFrame, never as a control frame", () => {
    const texts = ["", "\0", "\0\0", "\0h0 ", "\0a1", "\0w0 0 x", "a", " \0", "\u{1F600}", "\0\u{1F600}"];
    for (let i = 0; i < 200; i++) {
      texts.push(String.fromCharCode(...Array.from({ length: i % 7 }, () => Math.floor(Math.random() * 4))));
    }
    for (const text of texts) expect(readFrame(escape(text))).toBe(text);
  });
});
