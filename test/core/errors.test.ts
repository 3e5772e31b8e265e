import { describe, expect, it } from "vitest";
import { WebSocketClosedError } from "../../src/core/errors.ts";

describe("WebSocketClosedError", () => {
  it("is an Error named after itself, with a default message or the one given", () => {
    expect(new WebSocketClosedError()).toBeInstanceOf(Error);
    expect([new WebSocketClosedError().name, new WebSocketClosedError().message]).toEqual([
      "WebSocketClosedError",
      "the WebSocket is closed",
    ]);
    expect(new WebSocketClosedError("gone").message).toBe("gone");
  });
});
