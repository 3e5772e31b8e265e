/**
 * The resume protocol's least work for one socket of an echo server, written by hand for the resume scenario's floor
 * (`echo-rawresume-*`): what any server that echoes on a resume route must do per message (count both ways, keep
 * each echo until the client confirms it, acknowledge every 64 messages or 100 ms after the first one not
 * acknowledged), with no framework and none of edgesocket's checks, hooks or limits. Of edgesocket it takes only the
 * wire format's frame builders (src/protocol/resume.ts, as the bench's load client does).
 * @module
 */
import { acknowledgement, control as controlFrame, RESUME_PROTOCOL } from "../../src/protocol/resume.ts";

export { RESUME_PROTOCOL };
const ACK_EVERY = 64;
const ACK_DELAY_MS = 100;
/** The kept front is moved to the start of the array once this many slots before it were dropped. */
const COMPACT_AFTER = 256;
const CODE_ACK = "a".charCodeAt(0);
const CODE_HELLO = "h".charCodeAt(0);

/** What the session writes to: the runtime's socket. */
export interface RawSocket<M> {
  send(message: M | string): unknown;
}

/**
 * One socket's session: its counts and the echoes the client has not confirmed, `kept[head]` to `kept[tail - 1]`
 * (numbered `sent - (tail - head) + 1` to `sent`). The array keeps its room when emptied and is compacted once its
 * dropped front is long enough.
 */
export class RawSession<M> {
  socket: RawSocket<M> | undefined;
  #id = "";
  #sent = 0;
  #received = 0;
  #acknowledged = 0;
  #kept: (M | undefined)[] = [];
  #head = 0;
  #tail = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** A data message from the client: counted, echoed, kept until confirmed (the bench's never needs an escape). */
  echo(message: M): void {
    const unacknowledged = ++this.#received - this.#acknowledged;
    this.#sent++;
    this.#kept[this.#tail++] = message;
    this.socket!.send(message);
    if (unacknowledged >= ACK_EVERY) this.#acknowledge();
    else this.#timer ??= setTimeout(() => this.#late(), ACK_DELAY_MS);
  }

  /** A text that starts with U+0000: a hello or an acknowledgement; false for anything else. */
  control(text: string): boolean {
    const kind = text.charCodeAt(1);
    if (kind === CODE_ACK) {
      this.#confirmed(Number(text.slice(2)));
      return true;
    }
    if (kind !== CODE_HELLO || this.#id !== "") return false;
    this.#id = crypto.randomUUID();
    this.socket!.send(controlFrame("w", 0, 0, this.#id, ""));
    return true;
  }

  /** The socket closed. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  #acknowledge(): void {
    this.#acknowledged = this.#received;
    this.socket!.send(acknowledgement(this.#received));
  }

  #late(): void {
    this.#timer = undefined;
    if (this.#received > this.#acknowledged) this.#acknowledge();
  }

  #confirmed(count: number): void {
    const kept = this.#kept;
    const head = this.#head;
    const tail = this.#tail;
    const end = head + count - (this.#sent - (tail - head));
    if (end <= head) return;
    for (let i = head; i < end; i++) kept[i] = undefined;
    if (end === tail) {
      this.#head = this.#tail = 0;
    } else if (end >= COMPACT_AFTER && end >= tail - end) {
      kept.copyWithin(0, end, tail);
      for (let i = tail - end; i < tail; i++) kept[i] = undefined;
      this.#head = 0;
      this.#tail = tail - end;
    } else {
      this.#head = end;
    }
  }
}
