/**
 * Fakes for the core's unit tests (named as such): a runtime socket that records what the core
 * does to it and reports a send buffer the test sets.
 */
import { Connection, type Transport } from "../../src/core/connection.ts";
import { WebSocketHandler } from "../../src/core/handler.ts";
import type { SendData } from "../../src/core/message.ts";
import { resolveOptions, type WebSocketOptions } from "../../src/core/options.ts";
import type { Runtime } from "../../src/core/runtime.ts";

export class FakeBufferedTransport implements Transport {
  sent: SendData[] = [];
  closes: Array<[number | undefined, string | undefined]> = [];
  pings = 0;
  terminated = 0;
  /** What the fake runtime reports as waiting to be written. */
  bufferedAmount = 0;
  /** Bytes each `send` adds to the buffer. */
  growth = 0;
  send(data: SendData): void {
    this.sent.push(data);
    this.bufferedAmount += this.growth;
  }
  close(code?: number, reason?: string): void {
    this.closes.push([code, reason]);
  }
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated++;
  }
}

export class ClosesRecorded extends WebSocketHandler {
  closes: Array<[number, string]> = [];
  override onClose(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }
}

export function openConnection<T extends Transport>(
  transport: T,
  options?: WebSocketOptions,
  runtime?: Runtime,
): { connection: Connection; handler: ClosesRecorded; transport: T } {
  const handler = new ClosesRecorded();
  const connection = new Connection(handler, resolveOptions(options), undefined, runtime);
  connection.open(transport);
  return { connection, handler, transport };
}
