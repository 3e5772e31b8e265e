/** What a handler receives: text stays a string, binary arrives as an `ArrayBuffer`. */
export type Message = string | ArrayBuffer;

/** What a handler may send: text, or binary in any buffer form. */
export type SendData = string | ArrayBuffer | ArrayBufferView;

/** True when `message` is larger than `limit` bytes (text counted in UTF-8). */
export function exceedsSize(message: Message, limit: number): boolean {
  if (typeof message !== "string") return message.byteLength > limit;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes, so most strings need no counting.
  if (message.length * 3 <= limit) return false;
  if (message.length > limit) return true;
  return utf8Length(message) > limit;
}

/** The UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3; // a lone surrogate becomes U+FFFD, also 3 bytes
  }
  return bytes;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
