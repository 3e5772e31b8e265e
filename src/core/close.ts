import { CloseCode } from "./constants.ts";

const MAX_REASON_BYTES = 123;

/** Throws a `RangeError` unless a server may send this close code and reason (RFC 6455 §5.5.1, §7.4). */
export function assertSendableClose(code: number, reason: string): void {
  if (!isSendableCloseCode(code)) {
    throw new RangeError(`invalid close code ${code}: use 1000, 1001, 1002, 1003, 1007-1014 or 3000-4999`);
  }
  if (new TextEncoder().encode(reason).length > MAX_REASON_BYTES) {
    throw new RangeError(`close reason longer than ${MAX_REASON_BYTES} bytes`);
  }
}

function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (code >= CloseCode.NORMAL && code <= 1003) || (code >= CloseCode.INVALID_PAYLOAD && code <= 1014);
}
