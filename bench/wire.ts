/**
 * The load client's WebSocket over raw `node:net` sockets, lean enough to load a server on another core
 * (near 1.6 M msg/s here). Client frames use the all-zero mask key (valid per RFC 6455 §5.3), so frames are
 * built once and never masked. Every echo is checked as it arrives: opcode, length and bytes.
 * @module
 */
import net from "node:net";
import { acknowledgement, control, PLAIN_PROTOCOL, readFrame, RESUME_PROTOCOL } from "../src/protocol/resume.ts";

const HANDSHAKE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const HANDSHAKE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/** Opcode of a text frame. */
export const OP_TEXT = 1;
/** Opcode of a binary frame. */
export const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;

/** A client frame with the zero mask key: header, 4 zero bytes, payload as is. */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = Buffer.alloc(2 + extended + 4 + length);
  frame[0] = 0x80 | opcode;
  if (extended === 0) frame[1] = 0x80 | length;
  else if (extended === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, 2 + extended + 4);
  return frame;
}

function headerLength(byte1: number): number {
  const len7 = byte1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (byte1 & 0x80 ? 4 : 0);
}

/** `count` copies of `frame`, back to back: writing `n` frames is one `subarray`. */
export function repeated(frame: Buffer, count: number): Buffer {
  const out = Buffer.alloc(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

/** Messages each of the idle scenario's warm-up connections echoes (bench/load-client.ts). */
export const WARM_ECHOES = 16;

const CLOSE_FRAME = clientFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]));

/** A side of the resume protocol acknowledges after this many messages, or {@link ACK_DELAY_MS} after the first. */
const ACK_EVERY = 64;
const ACK_DELAY_MS = 100;

/**
 * The client's side of the resume protocol (src/protocol/resume.ts) on one bench connection, as `EdgeSocket` plays
 * it: the hello on a new session, the server's welcome, and acknowledgements both ways (after {@link ACK_EVERY}
 * messages, or {@link ACK_DELAY_MS} after the first one not acknowledged). The bench never drops a connection, so
 * nothing is kept for replay: a frame the server should not have sent counts as a broken echo.
 */
export class ResumeClient {
  /** The session id of the welcome. */
  session: string | undefined;
  /** How many of the client's messages the server confirmed. */
  confirmed = 0;
  /** Resolves on the welcome. */
  readonly welcomed: Promise<void>;
  #welcome: () => void = noop;
  #acknowledged = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly conn: Conn) {
    this.welcomed = new Promise((resolve) => (this.#welcome = resolve));
  }

  /** Asks for a new session: the first frame on the socket. */
  hello(): void {
    this.conn.socket.write(clientFrame(OP_TEXT, Buffer.from(control("h", 0, ""))));
  }

  /**
   * A data message arrived: the `received`-th of the session. As on the server, an acknowledgement leaves the timer
   * running, and the timer acknowledges what came since, if anything: a load client that set a timer per 64 echoes
   * spent more of its core on timers than on the echoes.
   */
  received(received: number): void {
    if (received - this.#acknowledged >= ACK_EVERY) this.#acknowledge();
    else this.#timer ??= setTimeout(() => this.#acknowledgeLate(), ACK_DELAY_MS);
  }

  /**
   * A text from the server that starts with U+0000; false when it breaks the protocol (or is an escaped data
   * message, which the bench's echo never is: its payload does not start with U+0000).
   */
  control(text: string): boolean {
    const frame = readFrame(text);
    if (!Array.isArray(frame)) return false;
    const [kind, count, resumed, id] = frame;
    const received = Number(count);
    if (!Number.isSafeInteger(received) || received < 0) return false;
    if (kind === "w" && this.session === undefined && resumed === "0" && id) {
      this.session = id;
      this.#welcome();
      return received === 0;
    }
    if (kind !== "a" || this.session === undefined || received < this.confirmed || received > this.conn.sent) {
      return false;
    }
    this.confirmed = received;
    return true;
  }

  /** Stops the acknowledgement timer: the socket is closing. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #acknowledgeLate(): void {
    this.#timer = undefined;
    if (this.conn.received > this.#acknowledged) this.#acknowledge();
  }

  /**
   * Sends an acknowledgement in the same write as the echoes answered in this turn (the pump writes them from a
   * microtask queued before this one), as uWS corks what Bun's server sends in one event: one system call, one
   * segment, not two.
   */
  #acknowledge(): void {
    this.#acknowledged = this.conn.received;
    const socket = this.conn.socket;
    if (socket.destroyed) return;
    socket.cork();
    socket.write(clientFrame(OP_TEXT, Buffer.from(acknowledgement(this.#acknowledged))));
    queueMicrotask(() => socket.uncork());
  }
}

/** What a connection sent and received, and how many frames broke the echo. */
export interface Tally {
  sent: number;
  received: number;
  bytes: number;
  bad: number;
}

/** One client connection after the handshake: sends prebuilt frames, parses and checks what comes back. */
export class Conn {
  /** Called for each whole data message; `ok` says whether it equals the expected payload. */
  onMessage: (conn: Conn, ok: boolean) => void = noop;
  /** Messages sent. */
  sent = 0;
  /** Whole data messages received. */
  received = 0;
  /** Payload bytes of the data messages received. */
  receivedBytes = 0;
  /** Frames or messages that broke the echo. */
  bad = 0;
  /** Whether the server sent a close frame. */
  closeReceived = false;
  /** Echoes answered but not yet written again (the pump's batching). */
  owed = 0;
  /** The resume protocol's client side, on a connection that negotiated it. */
  readonly resume: ResumeClient | undefined;
  private readonly hdr = Buffer.alloc(14);
  private hdrLen = 0;
  private inFrame = false;
  private remaining = 0;
  private op = 0;
  private msgOp = 0;
  private fin = false;
  private msgPos = 0;
  private msgOk = true;
  private ctrl = Buffer.alloc(0);
  private ctrlLen = 0;
  /** The pieces of a text message that is a resume control frame (it starts with U+0000), else undefined. */
  private resumeControl: Buffer[] | undefined;

  /**
   * @param socket the upgraded socket
   * @param expected the payload every echo must equal
   * @param expectedOp the opcode every echo must have
   * @param resume whether the connection negotiated the resume protocol
   */
  constructor(
    readonly socket: net.Socket,
    private readonly expected: Buffer,
    private readonly expectedOp: number,
    resume = false,
  ) {
    this.resume = resume ? new ResumeClient(this) : undefined;
  }

  /** Writes `buffer`, which holds `messages` whole frames. */
  send(buffer: Buffer, messages: number): void {
    this.sent += messages;
    this.socket.write(buffer);
  }

  /** Sends a close frame and resolves once the socket is gone (destroyed after `timeout` ms). */
  close(timeout = 2000): Promise<void> {
    return new Promise((resolve) => {
      const socket = this.socket;
      this.resume?.stop();
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => socket.destroy(), timeout);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.write(CLOSE_FRAME);
    });
  }

  /** Parses a chunk from the socket, frame by frame, checking data bytes in place. */
  onData(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (!this.inFrame) {
        i = this.readHeader(chunk, i);
        if (!this.inFrame) return;
        if (this.remaining === 0) this.endFrame();
        continue;
      }
      const take = Math.min(this.remaining, n - i);
      if (this.op >= OP_CLOSE) {
        chunk.copy(this.ctrl, this.ctrlLen, i, i + take);
        this.ctrlLen += take;
      } else {
        if (this.msgPos === 0 && this.resume && this.op === OP_TEXT && chunk[i] === 0) this.resumeControl = [];
        // Copied: a runtime may reuse the chunk's memory for the next read.
        if (this.resumeControl) this.resumeControl.push(Buffer.from(chunk.subarray(i, i + take)));
        else if (this.msgOk) this.msgOk = this.matches(chunk, i, take);
        this.msgPos += take;
      }
      i += take;
      this.remaining -= take;
      if (this.remaining === 0) this.endFrame();
    }
  }

  /** Reads a frame header at `i` (possibly split across chunks); returns where the payload starts. */
  private readHeader(chunk: Buffer, i: number): number {
    const n = chunk.length;
    if (this.hdrLen === 0 && n - i >= 2 && n - i >= headerLength(chunk[i + 1]!)) {
      this.beginFrame(chunk, i);
      return i + headerLength(chunk[i + 1]!);
    }
    const hdr = this.hdr;
    while (i < n && (this.hdrLen < 2 || this.hdrLen < headerLength(hdr[1]!))) hdr[this.hdrLen++] = chunk[i++]!;
    if (this.hdrLen < 2 || this.hdrLen < headerLength(hdr[1]!)) return i;
    this.hdrLen = 0;
    this.beginFrame(hdr, 0);
    return i;
  }

  private matches(chunk: Buffer, i: number, take: number): boolean {
    const expected = this.expected;
    const pos = this.msgPos;
    if (pos + take > expected.length) return false;
    if (take > 64) return expected.compare(chunk, i, i + take, pos, pos + take) === 0;
    for (let k = 0; k < take; k++) if (chunk[i + k] !== expected[pos + k]) return false;
    return true;
  }

  private beginFrame(src: Buffer, p: number): void {
    const b0 = src[p]!;
    const b1 = src[p + 1]!;
    if (b1 & 0x80) this.bad++; // a server must not mask
    const len7 = b1 & 0x7f;
    const length = len7 < 126
      ? len7
      : len7 === 126
      ? src.readUInt16BE(p + 2)
      : src.readUInt32BE(p + 2) * 2 ** 32 + src.readUInt32BE(p + 6);
    const op = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.remaining = length;
    this.inFrame = true;
    if (op >= OP_CLOSE) {
      this.op = op;
      this.ctrl = Buffer.alloc(length);
      this.ctrlLen = 0;
    } else if (op === 0) {
      this.op = this.msgOp; // continuation
    } else {
      this.op = op;
      this.msgOp = op;
      this.msgPos = 0;
      this.msgOk = op === this.expectedOp;
    }
  }

  private endFrame(): void {
    this.inFrame = false;
    const op = this.op;
    if (op === OP_CLOSE) {
      this.closeReceived = true;
      this.socket.end();
    } else if (op === OP_PING) {
      this.socket.write(clientFrame(OP_PONG, this.ctrl));
    } else if (op < OP_CLOSE && this.fin && this.resumeControl) {
      const text = Buffer.concat(this.resumeControl).toString("utf8");
      this.resumeControl = undefined;
      if (!this.resume!.control(text)) this.bad++;
    } else if (op < OP_CLOSE && this.fin) {
      const ok = this.msgOk && this.msgPos === this.expected.length;
      this.received++;
      this.receivedBytes += this.msgPos;
      if (!ok) this.bad++;
      this.resume?.received(this.received);
      this.onMessage(this, ok);
    }
  }
}

function noop(): void {}

/** Where and how a client connects. */
export interface ConnectOptions {
  port: number;
  /** The payload every echo must equal. */
  expected: Buffer;
  /** The opcode every echo must have. */
  expectedOp: number;
  /** The request path (default `/websocketserver`). */
  path?: string;
  /** Handshake timeout in ms (default 10 s), including the resume protocol's welcome. */
  timeout?: number;
  /**
   * Speak the resume protocol as `EdgeSocket` does: offer its subprotocols, send the hello, wait for the welcome,
   * acknowledge what arrives. The route must select it.
   */
  resume?: boolean;
}

/**
 * Opens a WebSocket and resolves once the server answered 101 with the right accept key (and, with `resume`,
 * selected the resume protocol and sent its welcome).
 */
export function connect(
  { port, expected, expectedOp, path = "/websocketserver", timeout = 10000, resume = false }: ConnectOptions,
) {
  return new Promise<Conn>((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    let head = "";
    const timer = setTimeout(() => fail(new Error("handshake timed out")), timeout);
    function fail(error: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    socket.on("error", fail);
    socket.on("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n` +
          (resume ? `Sec-WebSocket-Protocol: ${RESUME_PROTOCOL}, ${PLAIN_PROTOCOL}\r\n` : "") + "\r\n",
      );
    });
    socket.on("data", function onHead(chunk: Buffer) {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onHead);
      const lines = head.slice(0, end).split("\r\n");
      const header = (name: string) =>
        lines.find((line) => line.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
      if (!/^HTTP\/1\.1 101/.test(lines[0]!) || header("sec-websocket-accept") !== HANDSHAKE_ACCEPT) {
        return fail(new Error(`bad handshake answer: ${lines[0]}`));
      }
      if (resume && header("sec-websocket-protocol") !== RESUME_PROTOCOL) {
        return fail(new Error(`the route did not select ${RESUME_PROTOCOL}`));
      }
      socket.off("error", fail);
      socket.on("error", noop);
      const conn = new Conn(socket, expected, expectedOp, resume);
      socket.on("data", (data: Buffer) => conn.onData(data));
      socket.on("close", () => {
        conn.resume?.stop();
        if (conn.resume && conn.resume.session === undefined) fail(new Error("closed before the welcome"));
      });
      conn.resume?.hello();
      const rest = Buffer.from(head.slice(end + 4), "latin1");
      if (rest.length > 0) conn.onData(rest);
      const opened = () => {
        clearTimeout(timer);
        resolve(conn);
      };
      if (conn.resume) conn.resume.welcomed.then(opened);
      else opened();
    });
  });
}

/** Opens `count` connections, at most `parallel` handshakes at a time. */
export async function connectMany(options: ConnectOptions, count: number, parallel = 64): Promise<Conn[]> {
  const conns: Conn[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      next++;
      conns.push(await connect(options));
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return conns;
}

/** Closes every connection with a handshake. */
export async function closeAll(conns: Conn[]): Promise<void> {
  await Promise.all(conns.map((conn) => conn.close()));
}

/** What `conns` sent and received together. */
export function tally(conns: Conn[]): Tally {
  const total: Tally = { sent: 0, received: 0, bytes: 0, bad: 0 };
  for (const conn of conns) {
    total.sent += conn.sent;
    total.received += conn.received;
    total.bytes += conn.receivedBytes;
    total.bad += conn.bad;
  }
  return total;
}

/** Whether a WebSocket handshake on `port` succeeds now (a server's readiness probe). */
export async function acceptsWebSocket(port: number): Promise<boolean> {
  try {
    const conn = await connect({ port, expected: Buffer.alloc(0), expectedOp: OP_TEXT, timeout: 2000 });
    await conn.close();
    return true;
  } catch {
    return false;
  }
}
