/**
 * The soak: many connections sending numbered messages with random delays, some dropped abruptly
 * mid-way. Every message sent on a socket that stayed open must come back, in order; a dropped
 * socket's echoes must be an in-order prefix. Bounded: every wait has a deadline.
 */
import type { Socket } from "node:net";
import { type Client, openClient } from "../helpers/client.ts";

export interface SoakOptions {
  connections: number;
  messagesPerConnection: number;
  /** Roughly how long the sending lasts. */
  durationMs: number;
  /** Share of connections reset by the client (TCP reset, no close frame) at a random message. */
  dropShare: number;
}

export interface SoakResult {
  opened: number;
  kept: number;
  dropped: number;
  messagesSent: number;
  messagesEchoed: number;
  /** Connections whose echoes were not exactly what they sent (kept) or not an in-order prefix (dropped). */
  mismatches: string[];
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function soak(url: string, options: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const clients: Client[] = [];
  for (let start = 0; start < options.connections; start += 100) {
    const batch = Math.min(100, options.connections - start);
    clients.push(...(await Promise.all(Array.from({ length: batch }, () => openClient(url)))));
  }
  const results = await Promise.all(clients.map((client, index) => runOne(client, index, options)));
  const kept = results.filter((r) => !r.dropped);
  return {
    opened: clients.length,
    kept: kept.length,
    dropped: results.length - kept.length,
    messagesSent: results.reduce((n, r) => n + r.sent.length, 0),
    messagesEchoed: results.reduce((n, r) => n + r.received.length, 0),
    mismatches: results.filter((r) => !r.ok).map((r) => r.label),
    elapsedMs: Date.now() - started,
  };
}

async function runOne(client: Client, index: number, options: SoakOptions) {
  const { messagesPerConnection: count, durationMs } = options;
  const dropAt = Math.random() < options.dropShare ? Math.floor(Math.random() * count) : -1;
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    await sleep(Math.random() * ((2 * durationMs) / count));
    if (i === dropAt) {
      (client.ws as unknown as { _socket: Socket })._socket.resetAndDestroy();
      break;
    }
    const message = `${index}:${i}`;
    client.ws.send(message);
    sent.push(message);
  }
  const dropped = dropAt >= 0;
  if (!dropped) {
    await Promise.race([client.message(count).catch(() => undefined), sleep(20_000)]);
    client.ws.close();
    await Promise.race([client.closed, sleep(10_000)]);
  }
  const received = client.messages.map(String);
  const ok = dropped
    ? received.every((m, i) => m === sent[i])
    : received.length === sent.length && received.every((m, i) => m === sent[i]);
  return {
    ok,
    dropped,
    sent,
    received,
    label: `#${index} (${dropped ? "dropped" : "kept"}): ${received.length}/${sent.length}`,
  };
}
