import { describe, expect, it } from "vitest";
import { assertSendableClose } from "../../src/core/close.ts";

describe("#assertSendableClose", () => {
  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])(
    "accepts code %i",
    (code) => {
      expect(() => assertSendableClose(code, "")).not.toThrow();
    },
  );

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 1000.5, Number.NaN])(
    "rejects code %s with a RangeError",
    (code) => {
      expect(() => assertSendableClose(code, "")).toThrow(RangeError);
      expect(() => assertSendableClose(code, "")).toThrow(`invalid close code ${code}`);
    },
  );

  it("accepts a reason of exactly 123 bytes", () => {
    expect(() => assertSendableClose(1000, "x".repeat(123))).not.toThrow();
  });

  it("rejects a reason of 124 bytes with a RangeError", () => {
    expect(() => assertSendableClose(1000, "x".repeat(124))).toThrow(
      new RangeError("close reason longer than 123 bytes"),
    );
  });

  it("counts the reason in UTF-8 bytes (1/2)", () => {
    expect(() => assertSendableClose(1000, "é".repeat(61) + "x")).not.toThrow();
  });

  it("counts the reason in UTF-8 bytes (2/2)", () => {
    expect(() => assertSendableClose(1000, "é".repeat(62))).toThrow(RangeError);
  });

  it("checks the code before the reason", () => {
    expect(() => assertSendableClose(1005, "x".repeat(200))).toThrow(/invalid close code 1005/);
  });
});
