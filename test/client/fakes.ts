/**
 * A fake WebSocket for the client's unit tests (fake clock, no network): a constructor that records every socket
 * it made, each driven by the test (`open`, `receive`, `drop`, `refuse`). Everything else runs against real servers.
 */
import type { WebSocketConstructor } from "../../src/client/index.ts";

/** One fake socket: what the client sent and how it closed it; the test plays the server. */
export class FakeWebSocket extends EventTarget {
  readyState = 0;
  protocol = "";
  extensions = "";
  binaryType = "blob";
  bufferedAmount = 0;
  readonly sent: unknown[] = [];
  closedWith: [number | undefined, string | undefined] | undefined;

  constructor(readonly url: string, readonly protocols?: string | string[]) {
    super();
  }

  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error("FakeWebSocket: send while not open");
    this.sent.push(data);
  }

  /** The client's close: the close event follows in a microtask, as the closing handshake would. */
  close(code?: number, reason?: string): void {
    this.closedWith = [code, reason];
    if (this.readyState >= 2) return;
    this.readyState = 2;
    queueMicrotask(() => this.drop(code ?? 1005, reason ?? "", true));
  }

  open(protocol = ""): void {
    this.readyState = 1;
    this.protocol = protocol;
    this.dispatchEvent(new Event("open"));
  }

  receive(data: unknown): void {
    this.dispatchEvent(new MessageEvent("message", { data }));
  }

  /** The connection ends with `code` (the server closed it, or it dropped: 1006). */
  drop(code = 1006, reason = "", wasClean = false): void {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason, wasClean }));
  }

  /** The handshake fails with the runtime's `message` (as Node's ws, Deno and Bun word it), then the close. */
  refuse(message: string): void {
    this.dispatchEvent(Object.assign(new Event("error"), { message }));
    this.drop(1006);
  }
}

/** A fake `WebSocket` constructor and the sockets it made, in order. */
export function fakeWebSockets(): { WebSocket: WebSocketConstructor; sockets: FakeWebSocket[]; last(): FakeWebSocket } {
  const sockets: FakeWebSocket[] = [];
  const WebSocket = class extends FakeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  };
  return { WebSocket, sockets, last: () => sockets.at(-1)! };
}
