import { describe, expect, it } from "vitest";
import { exceedsSize, utf8Length } from "../../src/core/message.ts";

const encodedLength = (text: string) => new TextEncoder().encode(text).length;

describe("#utf8Length", () => {
  it.each([
    ["empty", ""],
    ["ASCII", "hello"],
    ["2-byte characters", "é ñ ß"],
    ["3-byte characters", "中文 €"],
    ["surrogate pairs", "😀👍🏽"],
    ["a mix", "a é 中 😀 z"],
    ["the last 1-, 2- and 3-byte code units", "\u007f\u0080\u07ff\u0800\uffff"],
  ])("counts %s as UTF-8 does", (_, text) => {
    expect(utf8Length(text)).toBe(encodedLength(text));
  });

  it("counts a surrogate pair as 4 bytes", () => {
    expect(utf8Length("😀")).toBe(4);
  });

  it("counts a lone low surrogate as its 3-byte replacement character", () => {
    expect(utf8Length("\udc00")).toBe(3);
  });

  it("counts a high surrogate at the end as its 3-byte replacement character", () => {
    expect(utf8Length("a\ud800")).toBe(encodedLength("a\ud800"));
  });

  it("counts a high surrogate followed by a non-surrogate as UTF-8 does", () => {
    expect(utf8Length("\ud800中")).toBe(encodedLength("\ud800中"));
  });
});

describe("#exceedsSize", () => {
  it("passes binary exactly at the limit", () => {
    expect(exceedsSize(new ArrayBuffer(10), 10)).toBe(false);
  });

  it("flags binary one byte over the limit", () => {
    expect(exceedsSize(new ArrayBuffer(11), 10)).toBe(true);
  });

  it("passes ASCII text exactly at the limit", () => {
    expect(exceedsSize("x".repeat(10), 10)).toBe(false);
  });

  it("flags ASCII text one byte over the limit", () => {
    expect(exceedsSize("x".repeat(11), 10)).toBe(true);
  });

  it("counts text in UTF-8 bytes, not UTF-16 units (1/2)", () => {
    expect(exceedsSize("é".repeat(5), 10)).toBe(false);
    expect(exceedsSize("é".repeat(6), 10)).toBe(true);
  });

  it("counts text in UTF-8 bytes, not UTF-16 units (2/2)", () => {
    expect(exceedsSize("中".repeat(4), 12)).toBe(false);
    expect(exceedsSize("中".repeat(4), 11)).toBe(true);
  });

  it("counts a surrogate pair as 4 bytes at the boundary", () => {
    expect(exceedsSize("😀😀", 8)).toBe(false);
    expect(exceedsSize("😀😀", 7)).toBe(true);
  });

  it("passes the empty message under any limit", () => {
    expect(exceedsSize("", 1)).toBe(false);
    expect(exceedsSize(new ArrayBuffer(0), 1)).toBe(false);
  });

  it("passes short text without counting when three bytes per unit still fit", () => {
    expect(exceedsSize("中中中", 9)).toBe(false);
  });
});
