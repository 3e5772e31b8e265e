import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, DEFAULT_RESUME, resolveOptions } from "../../src/core/options.ts";

describe("`DEFAULT_LIMITS`", () => {
  it("limits messages to 1 MiB, idles out after 120 s and lists no extra origin", () => {
    expect(DEFAULT_LIMITS).toMatchObject({ allowedOrigins: [], maxMessageSize: 1024 * 1024, idleTimeout: 120 });
  });

  it("congests at 64 KiB, closes slow consumers at 4 MiB, 10,000 connections, no rate limit", () => {
    expect(DEFAULT_LIMITS).toMatchObject({
      highWaterMark: 64 * 1024,
      maxBufferedAmount: 4 * 1024 * 1024,
      maxConnections: 10_000,
      maxMessagesPerSecond: 0,
    });
  });

  it("is frozen", () => {
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_LIMITS.allowedOrigins)).toBe(true);
  });
});

describe("#resolveOptions", () => {
  it("applies every default when given nothing", () => {
    expect(resolveOptions()).toEqual(DEFAULT_LIMITS);
  });

  it("keeps the values given", () => {
    const limits = resolveOptions({ allowedOrigins: ["https://a.example"], maxMessageSize: 10, idleTimeout: 5 });
    expect(limits).toEqual({
      ...DEFAULT_LIMITS,
      allowedOrigins: ["https://a.example"],
      maxMessageSize: 10,
      idleTimeout: 5,
    });
  });

  it("treats an option set to undefined as not given", () => {
    expect(resolveOptions({ maxMessageSize: undefined, idleTimeout: undefined })).toEqual(DEFAULT_LIMITS);
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(resolveOptions({ maxMessageSize: 10 }))).toBe(true);
  });

  it("accepts an idleTimeout of 0, which disables it", () => {
    expect(resolveOptions({ idleTimeout: 0 }).idleTimeout).toBe(0);
  });

  it("rejects a maxMessageSize of 0", () => {
    expect(() => resolveOptions({ maxMessageSize: 0 })).toThrow(
      new RangeError("maxMessageSize must be greater than 0"),
    );
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("rejects a maxMessageSize of %s", (value) => {
    expect(() => resolveOptions({ maxMessageSize: value })).toThrow(RangeError);
    expect(() => resolveOptions({ maxMessageSize: value })).toThrow(/^maxMessageSize must be a finite number >= 0/);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("rejects an idleTimeout of %s", (value) => {
    expect(() => resolveOptions({ idleTimeout: value })).toThrow(RangeError);
    expect(() => resolveOptions({ idleTimeout: value })).toThrow(/^idleTimeout must be a finite number >= 0/);
  });

  it.each(["highWaterMark", "maxBufferedAmount", "maxConnections", "maxMessagesPerSecond"] as const)(
    "rejects a negative %s and accepts 0",
    (name) => {
      expect(() => resolveOptions({ [name]: -1 })).toThrow(new RegExp(`^${name} must be a finite number >= 0`));
      expect(resolveOptions({ [name]: 0 })[name]).toBe(0);
    },
  );

  it("does not change the options object it is given", () => {
    const options = { maxMessageSize: 10 };
    resolveOptions(options);
    expect(options).toEqual({ maxMessageSize: 10 });
  });

  it("resume: off by default; true for the defaults (120 s, 10,000 messages, 4 MiB); given values kept", () => {
    expect(resolveOptions().resume).toBeUndefined();
    expect(resolveOptions({ resume: false }).resume).toBeUndefined();
    expect(resolveOptions({ resume: true }).resume).toEqual({
      window: 120,
      maxMessages: 10_000,
      maxBytes: 4 * 1024 * 1024,
    });
    expect(resolveOptions({ resume: { window: 5, maxBytes: undefined } }).resume).toEqual({
      ...DEFAULT_RESUME,
      window: 5,
    });
    expect(Object.isFrozen(resolveOptions({ resume: true }).resume)).toBe(true);
  });

  it.each(["window", "maxMessages", "maxBytes"])("resume.%s must be a finite number > 0", (name) => {
    expect(() => resolveOptions({ resume: { [name]: 0 } })).toThrow(`resume.${name} must be greater than 0`);
    expect(() => resolveOptions({ resume: { [name]: -1 } })).toThrow(`resume.${name} must be a finite number >= 0`);
    expect(() => resolveOptions({ resume: { [name]: Infinity } })).toThrow(RangeError);
  });
});
