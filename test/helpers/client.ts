/**
 * Test clients: `ws` for well-formed traffic, raw TCP for handshakes and malformed frames.
 */
import { request } from "node:http";
import { connect as tcpConnect, type Socket } from "node:net";
import WebSocket from "ws";

export interface Closed {
  code: number;
  reason: string;
}

/** An open `ws` client that records every message and its close. */
export interface Client {
  ws: WebSocket;
  messages: (string | Buffer)[];
  /**
   * Resolves with the `count`-th message (1-based) once it has arrived; without `count`,
   * with the first message not yet read this way. Rejects after 15 s.
   */
  message(count?: number): Promise<string | Buffer>;
  closed: Promise<Closed>;
}

export async function openClient(
  url: string,
  protocols?: string[],
  options: WebSocket.ClientOptions = {},
): Promise<Client> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
  const messages: (string | Buffer)[] = [];
  const waiters: { count: number; resolve: (m: string | Buffer) => void }[] = [];
  ws.on("message", (data: Buffer, isBinary) => {
    messages.push(isBinary ? data : data.toString());
    for (const waiter of waiters.filter((w) => w.count <= messages.length)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(messages[waiter.count - 1]!);
    }
  });
  const closed = new Promise<Closed>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on("error", () => {}); // the close event carries what matters
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    ws.once("error", reject);
  });
  let read = 0;
  return {
    ws,
    messages,
    closed,
    message(count = ++read) {
      if (messages.length >= count) return Promise.resolve(messages[count - 1]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`message ${count} did not arrive within 15 s`)), 15_000);
        waiters.push({ count, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
}

export interface HandshakeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw upgrade request: returns the status, headers and body the server answered with. */
export function handshake(
  url: string,
  { method = "GET", headers = {} }: { method?: string; headers?: Record<string, string> } = {},
): Promise<HandshakeResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: 10_000 });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error("handshake timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** The headers of a valid upgrade request. */
export function upgradeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    ...extra,
  };
}

/**
 * A raw TCP WebSocket client for frames `ws` refuses to send (bad UTF-8, reserved bits).
 * It requires the upgrade to answer 101 (else it rejects), writes `frame`, and resolves with the close
 * code the server sent (`null` if the server dropped the connection without a close frame).
 */
export function sendRawFrame(host: string, port: number, path: string, frame: Buffer): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tcpConnect(port, host);
    let received = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no close within 10 s"));
    }, 10_000);
    const finish = (code: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    socket.on("connect", () => socket.write(rawUpgradeRequest(host, port, path)));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (!upgraded) {
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = statusOf(received.subarray(0, end));
        if (status !== "101") {
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`upgrade answered ${status}`));
          return;
        }
        upgraded = true;
        received = received.subarray(end + 4);
        socket.write(frame);
      }
      const code = closeCodeIn(received);
      if (code !== undefined) finish(code);
    });
    socket.on("close", () => {
      if (!upgraded) {
        clearTimeout(timer);
        reject(new Error("closed before the upgrade"));
      } else finish(closeCodeIn(received) ?? null);
    });
    socket.on("error", () => {});
  });
}

/** The status code of a response head (`"101"` for an accepted upgrade). */
function statusOf(head: Buffer): string | undefined {
  return head.toString().split(" ")[1];
}

function rawUpgradeRequest(host: string, port: number, path: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
  );
}

/** The unmasked server frame starting at `offset`, and where it ends; `undefined` until it has arrived whole. */
function frameAt(data: Buffer, offset: number): { opcode: number; payload: Buffer; end: number } | undefined {
  if (offset + 2 > data.length) return undefined;
  const opcode = data[offset]! & 0x0f;
  let length = data[offset + 1]! & 0x7f;
  let header = 2;
  if (length === 126) {
    if (offset + 4 > data.length) return undefined;
    length = data.readUInt16BE(offset + 2);
    header = 4;
  } else if (length === 127) {
    if (offset + 10 > data.length) return undefined;
    length = Number(data.readBigUInt64BE(offset + 2));
    header = 10;
  }
  const end = offset + header + length;
  if (end > data.length) return undefined;
  return { opcode, payload: data.subarray(offset + header, end), end };
}

function closeCodeOf(payload: Buffer): number {
  return payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
}

/** The code of the first close frame among unmasked server frames, if one has arrived whole. */
function closeCodeIn(data: Buffer): number | undefined {
  for (let frame = frameAt(data, 0); frame; frame = frameAt(data, frame.end)) {
    if (frame.opcode === 0x8) return closeCodeOf(frame.payload);
  }
  return undefined;
}

/** A masked client frame (fin set) with the given first byte and payload. */
export function maskedFrame(firstByte: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new RangeError("keep raw test frames small");
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([firstByte, 0x80 | payload.length]), mask, masked]);
}

/** Polls `url` for JSON until `accept` holds or `ms` pass; returns the last value. */
export async function pollJSON<T>(url: string, accept: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value: T;
  do {
    value = (await (await fetch(url)).json()) as T;
    if (accept(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  return value;
}

/** A raw client that never answers anything: no pong, no close reply (a dead or deaf peer). */
export interface DeafClient {
  /** Pings received so far. */
  pings(): number;
  /** The close frame's code, or `null` if the server dropped TCP without one; and when (ms since open). */
  closed: Promise<{ code: number | null; afterMs: number }>;
  destroy(): void;
}

/** Opens a WebSocket on raw TCP that reads every frame but answers none. Rejects if the upgrade fails. */
export function openDeafClient(host: string, port: number, path: string): Promise<DeafClient> {
  return new Promise((resolveOpen, rejectOpen) => {
    const socket: Socket = tcpConnect(port, host);
    let received = Buffer.alloc(0);
    let openedAt = 0;
    let pings = 0;
    let closeCode: number | null = null;
    let resolveClosed!: (value: { code: number | null; afterMs: number }) => void;
    const closed = new Promise<{ code: number | null; afterMs: number }>((r) => (resolveClosed = r));
    socket.on("connect", () => socket.write(rawUpgradeRequest(host, port, path)));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (openedAt === 0) {
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = statusOf(received.subarray(0, end));
        if (status !== "101") {
          socket.destroy();
          rejectOpen(new Error(`upgrade answered ${status}`));
          return;
        }
        openedAt = Date.now();
        received = received.subarray(end + 4);
        resolveOpen({ pings: () => pings, closed, destroy: () => socket.destroy() });
      }
      for (let frame = frameAt(received, 0); frame; frame = frameAt(received, 0)) {
        if (frame.opcode === 0x9) pings++;
        if (frame.opcode === 0x8) closeCode = closeCodeOf(frame.payload);
        received = received.subarray(frame.end);
      }
    });
    socket.on("close", () => {
      resolveClosed({ code: closeCode, afterMs: Date.now() - openedAt });
      if (openedAt === 0) rejectOpen(new Error("closed before the upgrade"));
    });
    socket.on("error", () => {});
  });
}
