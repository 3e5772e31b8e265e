import { describe, expect, it } from "vitest";
import { CloseCode, ReadyState } from "../../src/core/constants.ts";

describe("constants", () => {
  it("ReadyState has the WHATWG WebSocket's values", () => {
    expect(ReadyState).toEqual({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  });

  it("CloseCode names RFC 6455's codes (§7.4.1) with their numbers", () => {
    expect(CloseCode).toEqual({
      NORMAL: 1000,
      GOING_AWAY: 1001,
      PROTOCOL_ERROR: 1002,
      UNSUPPORTED_DATA: 1003,
      NO_STATUS: 1005,
      ABNORMAL: 1006,
      INVALID_PAYLOAD: 1007,
      POLICY_VIOLATION: 1008,
      MESSAGE_TOO_BIG: 1009,
      INTERNAL_ERROR: 1011,
      SERVICE_RESTART: 1012,
      TRY_AGAIN_LATER: 1013,
    });
  });
});
