import { describe, expect, it } from "vitest";
import { reconnectDelay } from "../../src/backplane/transports.ts";

describe("reconnectDelay", () => {
  it("starts at 50 ms, doubles, and is capped by maxReconnectDelay (1 s by default)", () => {
    expect(Array.from({ length: 8 }, (_, retries) => reconnectDelay(retries, 1000))).toEqual([
      50,
      100,
      200,
      400,
      800,
      1000,
      1000,
      1000,
    ]);
    expect(reconnectDelay(20, 250)).toBe(250);
  });
});
