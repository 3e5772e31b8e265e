#!/usr/bin/env node
/**
 * The bench load client: WebSocket over raw `node:net` sockets, runnable by Node 20 and by Bun.
 * Client frames use the all-zero mask key (valid per RFC 6455 §5.3), so frames are prebuilt once and
 * the client spends no time masking. Every echo is checked: its opcode, its length and its bytes, and at
 * the end of each scenario the number of echoes must equal the number of messages sent.
 *
 *   client.mjs <throughput|latency|large|churn|idle|broadcast> --port P [--duration ms] [--connections N]
 *              [--inflight K] [--size B] [--count N] [--rounds N] [--gap ms] [--pids 1,2]
 *
 * Prints one JSON line with the result, and exits non-zero if the server broke the echo.
 * @module
 */
import { readFileSync } from "node:fs";
import net from "node:net";

const HANDSHAKE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const HANDSHAKE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const OP_TEXT = 1;
const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PING = 9;

// --- frames ---

/** A client frame with the zero mask key: header, 4 zero bytes, payload as is. */
function clientFrame(opcode, payload) {
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

function headerLength(byte1) {
  const len7 = byte1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (byte1 & 0x80 ? 4 : 0);
}

/** `count` copies of `frame`, back to back: writing `n` frames is one `subarray`. */
function repeated(frame, count) {
  const out = Buffer.alloc(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

const CLOSE_FRAME = clientFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]));

// --- one connection ---

class Conn {
  /**
   * @param {net.Socket} socket
   * @param {Buffer} expected the payload every echo must equal
   * @param {number} expectedOp
   */
  constructor(socket, expected, expectedOp) {
    this.socket = socket;
    this.expected = expected;
    this.expectedOp = expectedOp;
    /** Called with (conn, ok) for each whole message. */
    this.onMessage = noop;
    this.sent = 0;
    this.received = 0;
    this.receivedBytes = 0;
    this.bad = 0;
    this.closeReceived = false;
    this.owed = 0;
    this.flush = noop;
    this.hdr = Buffer.alloc(14);
    this.hdrLen = 0;
    this.inFrame = false;
    this.remaining = 0;
    this.op = 0;
    this.fin = false;
    this.msgPos = 0;
    this.msgOk = true;
    this.ctrl = null;
    this.ctrlLen = 0;
  }

  send(buffer, messages) {
    this.sent += messages;
    this.socket.write(buffer);
  }

  /** Sends a close frame and resolves once the socket is gone (destroyed after `timeout` ms). */
  close(timeout = 2000) {
    return new Promise((resolve) => {
      const socket = this.socket;
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => socket.destroy(), timeout);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.closing = true;
      socket.write(CLOSE_FRAME);
    });
  }

  onData(chunk) {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (!this.inFrame) {
        if (this.hdrLen === 0 && n - i >= 2 && n - i >= headerLength(chunk[i + 1])) {
          this.beginFrame(chunk, i);
          i += headerLength(chunk[i + 1]);
        } else {
          const hdr = this.hdr;
          while (i < n && (this.hdrLen < 2 || this.hdrLen < headerLength(hdr[1]))) hdr[this.hdrLen++] = chunk[i++];
          if (this.hdrLen < 2 || this.hdrLen < headerLength(hdr[1])) return;
          this.hdrLen = 0;
          this.beginFrame(hdr, 0);
        }
        if (this.remaining === 0) this.endFrame();
        continue;
      }
      const take = Math.min(this.remaining, n - i);
      if (this.op >= OP_CLOSE) {
        chunk.copy(this.ctrl, this.ctrlLen, i, i + take);
        this.ctrlLen += take;
      } else if (this.msgOk) {
        const expected = this.expected;
        const pos = this.msgPos;
        if (pos + take > expected.length) this.msgOk = false;
        else if (take <= 64) {
          for (let k = 0; k < take; k++) {
            if (chunk[i + k] !== expected[pos + k]) {
              this.msgOk = false;
              break;
            }
          }
        } else if (expected.compare(chunk, i, i + take, pos, pos + take) !== 0) this.msgOk = false;
      }
      if (this.op < OP_CLOSE) this.msgPos += take;
      i += take;
      this.remaining -= take;
      if (this.remaining === 0) this.endFrame();
    }
  }

  beginFrame(src, p) {
    const b0 = src[p];
    const b1 = src[p + 1];
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

  endFrame() {
    this.inFrame = false;
    const op = this.op;
    if (op === OP_CLOSE) {
      this.closeReceived = true;
      this.socket.end();
    } else if (op === OP_PING) {
      this.socket.write(clientFrame(0xa, this.ctrl));
    } else if (op < OP_CLOSE && this.fin) {
      const ok = this.msgOk && this.msgPos === this.expected.length;
      this.received++;
      this.receivedBytes += this.msgPos;
      if (!ok) this.bad++;
      this.onMessage(this, ok);
    }
  }
}

function noop() {}

/** Opens a WebSocket to `path` and resolves once the server answered 101. */
function connect(port, expected, expectedOp, timeout = 10000, path = "/websocketserver") {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    let head = "";
    const timer = setTimeout(() => fail(new Error("handshake timed out")), timeout);
    function fail(error) {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    socket.on("error", fail);
    socket.on("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", function onHead(chunk) {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onHead);
      const lines = head.slice(0, end).split("\r\n");
      const accept = lines.find((line) => line.toLowerCase().startsWith("sec-websocket-accept:"));
      if (!/^HTTP\/1\.1 101/.test(lines[0]) || accept?.slice(21).trim() !== HANDSHAKE_ACCEPT) {
        return fail(new Error(`bad handshake answer: ${lines[0]}`));
      }
      clearTimeout(timer);
      socket.off("error", fail);
      socket.on("error", noop);
      const conn = new Conn(socket, expected, expectedOp);
      socket.on("data", (data) => conn.onData(data));
      const rest = Buffer.from(head.slice(end + 4), "latin1");
      if (rest.length > 0) conn.onData(rest);
      resolve(conn);
    });
  });
}

/** Opens `count` connections, at most `parallel` handshakes at a time. */
async function connectMany(port, count, expected, expectedOp, parallel = 64, path = undefined) {
  const conns = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      next++;
      conns.push(await connect(port, expected, expectedOp, undefined, path));
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return conns;
}

async function closeAll(conns) {
  await Promise.all(conns.map((conn) => conn.close()));
}

// --- server process readings (Linux /proc) ---

/** Resident memory of each of `pids`, keyed `pid command`, in bytes. */
function rssByProcess(pids) {
  const rss = {};
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      if (kb) rss[`${pid} ${/Name:\s+(\S+)/.exec(status)?.[1]}`] = Number(kb[1]) * 1024;
    } catch {
      // the process exited meanwhile
    }
  }
  return rss;
}

/** CPU seconds used so far by `pids` (user + system, all threads). */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process exited meanwhile
    }
  }
  return ticks / 100;
}

/** CPU seconds used so far by every process on the machine (all cores). */
function machineCpuSeconds() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  return (fields.reduce((a, b) => a + b, 0) - idle) / 100;
}

function clientCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function verification(conns) {
  let sent = 0;
  let received = 0;
  let bytes = 0;
  let bad = 0;
  for (const conn of conns) {
    sent += conn.sent;
    received += conn.received;
    bytes += conn.receivedBytes;
    bad += conn.bad;
  }
  return { sent, received, bytes, bad };
}

async function drain(conns, timeout) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline && conns.some((conn) => conn.received < conn.sent)) await sleep(5);
}

// --- scenarios ---

/**
 * `connections` sockets, each with `inflight` messages of `size` bytes always outstanding: every echo
 * is answered with a new message. Counts echoes in a window after a warm-up.
 */
async function pump(opts, opcode) {
  const payload = Buffer.alloc(opts.size, opcode === OP_TEXT ? "edgesocket-bench-" : "\x00\x01\xfe\xff\x7f");
  const frame = clientFrame(opcode, payload);
  const batch = repeated(frame, opts.inflight);
  const conns = await connectMany(opts.port, opts.connections, payload, opcode);
  let total = 0;
  let stopping = false;
  for (const conn of conns) {
    conn.owed = 0;
    conn.flush = () => {
      const owed = conn.owed;
      conn.owed = 0;
      if (!stopping && owed > 0) conn.send(batch.subarray(0, owed * frame.length), owed);
    };
    conn.onMessage = (c) => {
      total++;
      if (stopping) return;
      // Answer all echoes of one socket read with one write.
      if (c.owed++ === 0) queueMicrotask(c.flush);
    };
  }
  for (const conn of conns) conn.send(batch, opts.inflight);
  await sleep(opts.warmup);
  const t0 = performance.now();
  const n0 = total;
  const cpu0 = cpuSeconds(opts.pids);
  const client0 = clientCpuSeconds();
  const machine0 = machineCpuSeconds();
  await sleep(opts.duration);
  const seconds = (performance.now() - t0) / 1000;
  const messages = total - n0;
  const serverCpu = (cpuSeconds(opts.pids) - cpu0) / seconds;
  const clientCpu = (clientCpuSeconds() - client0) / seconds;
  // CPU used by anything else on the machine in the window (other tenants, the runner): the noise.
  const otherCpu = Math.max(0, (machineCpuSeconds() - machine0) / seconds - serverCpu - clientCpu);
  stopping = true;
  await drain(conns, 5000);
  const verified = verification(conns);
  await closeAll(conns);
  return {
    messages,
    seconds,
    rate: messages / seconds,
    serverCpu,
    clientCpu,
    otherCpu,
    verified,
    expectedBytes: opts.size,
  };
}

async function throughput(opts) {
  const r = await pump(opts, OP_TEXT);
  return { value: r.rate, unit: "msg/s", ...r };
}

async function large(opts) {
  const r = await pump(opts, OP_BINARY);
  return { value: (r.rate * opts.size) / 1e6, unit: "MB/s", ...r };
}

/** One socket, one message at a time: round-trip times in µs. */
async function latency(opts) {
  const payload = Buffer.alloc(opts.size, "edgesocket-bench-");
  const frame = clientFrame(OP_TEXT, payload);
  const [conn] = await connectMany(opts.port, 1, payload, OP_TEXT);
  const times = new Float64Array(opts.count);
  const warmup = Math.min(opts.warmup ?? 200, opts.count);
  let deadline = Infinity; // set once the warm-up is done
  let done = 0;
  let ticket = 0;
  await new Promise((resolve) => {
    let start = 0;
    conn.onMessage = () => {
      const now = performance.now();
      if (ticket >= warmup) times[done++] = (now - start) * 1000;
      else if (ticket === warmup - 1) deadline = now + opts.duration;
      ticket++;
      if (done >= opts.count || now > deadline) return resolve();
      start = performance.now();
      conn.send(frame, 1);
    };
    start = performance.now();
    conn.send(frame, 1);
  });
  await drain([conn], 2000);
  const verified = verification([conn]);
  await conn.close();
  const sorted = Array.from(times.subarray(0, done)).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { value: pct(50), unit: "µs", p50: pct(50), p99: pct(99), samples: done, verified, expectedBytes: opts.size };
}

/** `connections` loops of: connect, one echo, close handshake, socket closed. Completed cycles per second. */
async function churn(opts) {
  const payload = Buffer.alloc(opts.size, "edgesocket-bench-");
  const frame = clientFrame(OP_TEXT, payload);
  const deadline = performance.now() + opts.duration;
  const totals = { sent: 0, received: 0, bytes: 0, bad: 0 };
  let cycles = 0;
  let failures = 0;
  const t0 = performance.now();
  async function loop() {
    while (performance.now() < deadline) {
      try {
        const conn = await connect(opts.port, payload, OP_TEXT, 5000);
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("echo timed out")), 5000);
          conn.onMessage = () => {
            clearTimeout(timer);
            resolve();
          };
          conn.send(frame, 1);
        });
        await conn.close(5000);
        totals.sent += conn.sent;
        totals.received += conn.received;
        totals.bytes += conn.receivedBytes;
        totals.bad += conn.bad + (conn.closeReceived ? 0 : 1);
        cycles++;
      } catch {
        failures++;
        totals.bad++;
      }
    }
  }
  await Promise.all(Array.from({ length: opts.connections }, loop));
  const seconds = (performance.now() - t0) / 1000;
  return {
    value: cycles / seconds,
    unit: "conn/s",
    cycles,
    failures,
    seconds,
    verified: totals,
    expectedBytes: opts.size,
  };
}

/**
 * Opens `count` connections in two halves, each connection echoing one message, and reads the server's
 * RSS before, between and after: the per-connection figure is the second half's growth.
 */
async function idle(opts) {
  const payload = Buffer.alloc(opts.size, "edgesocket-bench-");
  const frame = clientFrame(OP_TEXT, payload);
  const openIdle = async (count) => {
    const conns = await connectMany(opts.port, count, payload, OP_TEXT, 100);
    for (const conn of conns) conn.send(frame, 1);
    await drain(conns, 10000);
    await sleep(opts.settle);
    return conns;
  };
  await sleep(opts.settle);
  const before = rssByProcess(opts.pids);
  const half = Math.floor(opts.count / 2);
  const first = await openIdle(half);
  const middle = rssByProcess(opts.pids);
  const second = await openIdle(opts.count - half);
  const after = rssByProcess(opts.pids);
  const conns = [...first, ...second];
  const verified = verification(conns);
  await closeAll(conns);
  const total = (rss) => Object.values(rss).reduce((a, b) => a + b, 0);
  const perProcess = Object.fromEntries(
    Object.keys(after).map((key) => [key, ((after[key] ?? 0) - (middle[key] ?? 0)) / second.length]),
  );
  return {
    // The second half's growth: what one more connection costs, without one-off costs such as the
    // upgrade path's first JIT compilation, which the first connections pay.
    value: (total(after) - total(middle)) / second.length,
    unit: "B/conn",
    average: (total(after) - total(before)) / conns.length,
    perProcess,
    before: total(before),
    middle: total(middle),
    after: total(after),
    connections: conns.length,
    verified,
    expectedBytes: opts.size,
  };
}

/**
 * `count` subscribers on `/subscribe`, one publisher on `/publish`; `rounds` times, the publisher sends
 * one message and the time until every subscriber has it is taken (ms). Each subscriber checks that it
 * got every message, byte for byte.
 */
async function broadcast(opts) {
  const payload = Buffer.alloc(opts.size, "edgesocket-bench-");
  const frame = clientFrame(OP_TEXT, payload);
  const subscribers = await connectMany(opts.port, opts.count, payload, OP_TEXT, 100, "/subscribe");
  const [publisher] = await connectMany(opts.port, 1, payload, OP_TEXT, 1, "/publish");
  // The servers subscribe in their open hook, which may run just after the client saw the 101.
  await sleep(opts.settle);
  let waiting = 0;
  let allReceived = noop;
  for (const conn of subscribers) {
    conn.onMessage = () => {
      if (--waiting === 0) allReceived();
    };
  }
  const times = [];
  const cpu0 = cpuSeconds(opts.pids);
  const client0 = clientCpuSeconds();
  for (let round = 0; round < opts.rounds; round++) {
    for (const conn of subscribers) conn.sent++; // what each subscriber is owed
    waiting = subscribers.length;
    const arrived = new Promise((resolve) => (allReceived = resolve));
    const t0 = performance.now();
    publisher.socket.write(frame);
    const timedOut = await Promise.race([arrived.then(() => false), sleep(10000).then(() => true)]);
    const elapsed = performance.now() - t0;
    if (timedOut) break;
    times.push(elapsed);
    await sleep(opts.gap);
  }
  // CPU per broadcast in ms (the gaps are idle): who did the work, server or client.
  const serverCpuMs = times.length ? ((cpuSeconds(opts.pids) - cpu0) * 1000) / times.length : undefined;
  const clientCpuMs = times.length ? ((clientCpuSeconds() - client0) * 1000) / times.length : undefined;
  await drain(subscribers, 2000);
  const verified = verification(subscribers);
  await closeAll([...subscribers, publisher]);
  const sorted = [...times].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    value: median,
    unit: "ms",
    subscribers: subscribers.length,
    rounds: times.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    serverCpuMs,
    clientCpuMs,
    verified,
    expectedBytes: opts.size,
  };
}

// --- main ---

const SCENARIOS = { throughput, latency, large, churn, idle, broadcast };

function parseArgs(argv) {
  const opts = {
    scenario: argv[0],
    port: 0,
    duration: 2000,
    warmup: 500,
    connections: 50,
    inflight: 16,
    size: 32,
    count: 5000,
    settle: 1000,
    rounds: 20,
    gap: 20,
    pids: [],
  };
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = argv[i + 1];
    if (key === "pids") opts.pids = value ? value.split(",").map(Number) : [];
    else if (key in opts) opts[key] = Number(value);
    else throw new Error(`unknown option --${key}`);
  }
  if (!SCENARIOS[opts.scenario] || !opts.port) {
    throw new Error("usage: client.mjs <throughput|latency|large|churn|idle|broadcast> --port P [options]");
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Bounded: whatever happens, this process ends.
  const limit = setTimeout(() => {
    console.error(`client: ${opts.scenario} exceeded its time limit`);
    process.exit(3);
  }, opts.duration + opts.warmup + 2 * opts.settle + 60000);
  limit.unref?.();
  const result = await SCENARIOS[opts.scenario](opts);
  const v = result.verified;
  const ok = v.bad === 0 && v.sent === v.received && v.bytes === v.received * result.expectedBytes && v.received > 0 &&
    Number.isFinite(result.value);
  result.verified = { ...v, ok };
  process.stdout.write(`${JSON.stringify({ scenario: opts.scenario, ...result })}\n`);
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`client: ${error?.stack ?? error}`);
  process.exit(2);
});
