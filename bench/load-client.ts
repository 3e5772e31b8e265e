#!/usr/bin/env node
/**
 * The bench load client, one process per measurement, pinned to the core the server does not use. Runs on Bun
 * (Node 20 cannot keep a fast server busy). Prints one JSON line with the result and exits non-zero if the server
 * broke the echo: every echo is checked (opcode, length, bytes), and the count of echoes must equal the count sent.
 *
 *   load-client.js <throughput|latency|large|churn|idle|broadcast> --port P [--pids 1,2] [--duration ms] ...
 *     [--resume true]
 *
 * @module
 */
import { workerdHeapAfterGc } from "./inspector.ts";
import { cpuSeconds, machineCpuSeconds, pageFaults, rssByProcess } from "./proc.ts";
import { percentile } from "./stats.ts";
import {
  clientFrame,
  closeAll,
  type Conn,
  connect,
  connectMany,
  type ConnectOptions,
  OP_BINARY,
  OP_TEXT,
  repeated,
  type Tally,
  tally,
  WARM_ECHOES,
} from "./wire.ts";

/** The options of every scenario; each uses some. Times in ms, sizes in bytes. */
export interface ClientOptions {
  port: number;
  /** The server's processes, for its CPU and memory. */
  pids: number[];
  duration: number;
  warmup: number;
  connections: number;
  inflight: number;
  size: number;
  count: number;
  settle: number;
  /**
   * Idle: connections opened, each echoing {@link WARM_ECHOES} messages, and closed before the first reading, so that
   * the server's one-off costs of its upgrade, message and close paths (the JIT's compilations) fall before the halves.
   */
  warmConnections: number;
  rounds: number;
  gap: number;
  /** Speak the resume protocol as `EdgeSocket` does (a route with `resume`): hello, welcome, acknowledgements. */
  resume: boolean;
  /**
   * Idle: also read the server's JS heap after a full collection (`GET /bench/heap`, bench/servers/heap.ts, or on
   * workerd through `inspector`), after each RSS reading.
   */
  heap: boolean;
  /** workerd's inspector port under `wrangler dev`, where `heap` is read (0: the server's `GET /bench/heap`). */
  inspector: number;
}

/** What every scenario reports: `value` in `unit`, and the echo check. */
export interface ScenarioResult {
  value: number;
  unit: string;
  verified: Tally & { ok?: boolean };
  expectedBytes: number;
  [detail: string]: unknown;
}

const DEFAULTS: Omit<ClientOptions, "port"> = {
  pids: [],
  duration: 2000,
  warmup: 500,
  connections: 50,
  inflight: 256,
  size: 32,
  count: 5000,
  settle: 1000,
  warmConnections: 0,
  rounds: 20,
  gap: 20,
  resume: false,
  heap: false,
  inspector: 0,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function clientCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function textPayload(size: number): Buffer {
  return Buffer.alloc(size, "edgesocket-bench-");
}

/** Where the scenario connects and what every echo must be: `payload` with `opcode`. */
function target(opts: ClientOptions, payload: Buffer, opcode: number): ConnectOptions {
  return { port: opts.port, expected: payload, expectedOp: opcode, resume: opts.resume };
}

/**
 * Waits until the server's processes use less than a tenth of a core over 300 ms (at most `limit` ms), so that what
 * they still do after a scenario (closing handshakes; a Durable Object ending its sessions in its storage) is not
 * billed to the next run, nor slows its handshakes.
 */
async function serverSettled(pids: readonly number[], limit = 30_000): Promise<void> {
  const deadline = Date.now() + limit;
  for (let last = cpuSeconds(pids); Date.now() < deadline;) {
    await sleep(300);
    const now = cpuSeconds(pids);
    if (now - last < 0.03) return;
    last = now;
  }
}

async function drain(conns: Conn[], timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline && conns.some((conn) => conn.received < conn.sent)) await sleep(5);
}

/**
 * `connections` sockets, each with `inflight` messages of `size` bytes always outstanding: every echo is
 * answered with a new message. Counts echoes, and the server's CPU time, in a window after a warm-up.
 */
async function pump(opts: ClientOptions, opcode: number) {
  const payload = opcode === OP_TEXT ? textPayload(opts.size) : Buffer.alloc(opts.size, "\x00\x01\xfe\xff\x7f");
  const frame = clientFrame(opcode, payload);
  const batch = repeated(frame, opts.inflight);
  const conns = await connectMany(target(opts, payload, opcode), opts.connections);
  let total = 0;
  let stopping = false;
  for (const conn of conns) {
    const flush = () => {
      const owed = conn.owed;
      conn.owed = 0;
      if (!stopping && owed > 0) conn.send(batch.subarray(0, owed * frame.length), owed);
    };
    conn.onMessage = (c) => {
      total++;
      // Answer all echoes of one socket read with one write.
      if (!stopping && c.owed++ === 0) queueMicrotask(flush);
    };
  }
  for (const conn of conns) conn.send(batch, opts.inflight);
  await sleep(opts.warmup);
  const t0 = performance.now();
  const n0 = total;
  const cpu0 = cpuSeconds(opts.pids);
  const faults0 = pageFaults(opts.pids);
  const client0 = clientCpuSeconds();
  const machine0 = machineCpuSeconds();
  await sleep(opts.duration);
  const seconds = (performance.now() - t0) / 1000;
  const messages = total - n0;
  const serverCpuSeconds = cpuSeconds(opts.pids) - cpu0;
  const serverFaults = pageFaults(opts.pids) - faults0;
  const clientCpu = (clientCpuSeconds() - client0) / seconds;
  const serverCpu = serverCpuSeconds / seconds;
  stopping = true;
  // CPU used by anything else on the machine in the window (other tenants, the runner): the noise.
  const otherCpu = Math.max(0, (machineCpuSeconds() - machine0) / seconds - serverCpu - clientCpu);
  await drain(conns, 5000);
  const verified = tally(conns);
  await closeAll(conns);
  const rate = messages / seconds;
  // Server CPU per message: unlike msg/s it does not depend on which side was the limit.
  const cpuPerMessage = messages > 0 ? (serverCpuSeconds / messages) * 1e6 : undefined;
  const faultsPerMessage = messages > 0 && opts.pids.length ? serverFaults / messages : undefined;
  return {
    messages,
    seconds,
    rate,
    serverCpu,
    clientCpu,
    otherCpu,
    cpuPerMessage,
    faultsPerMessage,
    verified,
    expectedBytes: opts.size,
  };
}

async function throughput(opts: ClientOptions): Promise<ScenarioResult> {
  const r = await pump(opts, OP_TEXT);
  return { value: r.rate, unit: "msg/s", ...r };
}

async function large(opts: ClientOptions): Promise<ScenarioResult> {
  const r = await pump(opts, OP_BINARY);
  return { value: (r.rate * opts.size) / 1e6, unit: "MB/s", ...r };
}

/** One socket, one message at a time, after `warmup` round trips: round-trip times in µs. */
async function latency(opts: ClientOptions): Promise<ScenarioResult> {
  const payload = textPayload(opts.size);
  const frame = clientFrame(OP_TEXT, payload);
  const conn = await connect(target(opts, payload, OP_TEXT));
  const times = new Float64Array(opts.count);
  const warmup = opts.warmup;
  let deadline = Infinity; // set once the warm-up is done
  let done = 0;
  let ticket = 0;
  await new Promise<void>((resolve) => {
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
    if (warmup === 0) deadline = performance.now() + opts.duration;
    start = performance.now();
    conn.send(frame, 1);
  });
  await drain([conn], 2000);
  const verified = tally([conn]);
  await conn.close();
  const sorted = times.subarray(0, done).sort();
  const p50 = percentile(sorted, 50);
  return {
    value: p50,
    unit: "µs",
    p50,
    p99: percentile(sorted, 99),
    samples: done,
    verified,
    expectedBytes: opts.size,
  };
}

/**
 * `connections` loops of: connect, one echo, close handshake, socket closed. Completed cycles per second, and the
 * server's CPU µs per cycle (`/proc` counts in 10 ms ticks: about ±2% over a 1 s window on Node).
 */
async function churn(opts: ClientOptions): Promise<ScenarioResult> {
  const payload = textPayload(opts.size);
  const frame = clientFrame(OP_TEXT, payload);
  const t0 = performance.now();
  const cpu0 = cpuSeconds(opts.pids);
  const deadline = t0 + opts.duration;
  const verified: Tally = { sent: 0, received: 0, bytes: 0, bad: 0 };
  let cycles = 0;
  let failures = 0;
  const cycle = async () => {
    const conn = await connect({ ...target(opts, payload, OP_TEXT), timeout: 5000 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("echo timed out")), 5000);
      conn.onMessage = () => {
        clearTimeout(timer);
        resolve();
      };
      conn.send(frame, 1);
    });
    await conn.close(5000);
    const one = tally([conn]);
    verified.sent += one.sent;
    verified.received += one.received;
    verified.bytes += one.bytes;
    verified.bad += one.bad + (conn.closeReceived ? 0 : 1);
    cycles++;
  };
  const loop = async () => {
    while (performance.now() < deadline) {
      await cycle().catch(() => {
        failures++;
        verified.bad++;
      });
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, loop));
  const seconds = (performance.now() - t0) / 1000;
  // Server CPU per cycle: unlike conn/s it does not move when another tenant takes the server's core.
  const cpuPerCycle = cycles > 0 ? ((cpuSeconds(opts.pids) - cpu0) / cycles) * 1e6 : undefined;
  return {
    value: cycles / seconds,
    unit: "conn/s",
    cycles,
    failures,
    seconds,
    cpuPerCycle,
    verified,
    expectedBytes: opts.size,
  };
}

/**
 * The server's V8 young generation as it stands (where it has one), then its JS heap in use after a full collection
 * (bench/servers/heap.ts; on workerd, the Worker's V8 heap through its inspector), in bytes.
 */
async function heapAfterGc({ port, inspector }: ClientOptions): Promise<{ heapUsed: number; young?: number }> {
  if (inspector) return { heapUsed: await workerdHeapAfterGc(inspector, port) };
  const response = await fetch(`http://127.0.0.1:${port}/bench/heap`);
  const read = await response.json() as { heapUsed?: number; young?: number };
  if (!response.ok || typeof read.heapUsed !== "number") throw new Error(`no heap reading: HTTP ${response.status}`);
  return { heapUsed: read.heapUsed, young: read.young };
}

/** How much longer the client may take with a warm-up: its echoes, its closes, the server settling. */
const WARM_UP_LIMIT = 45_000;

/** The idle scenario's warm-up: `warmConnections` that echo and close, then the server settles; returns them. */
async function warmUp(opts: ClientOptions, payload: Buffer, frame: Buffer): Promise<Conn[]> {
  if (opts.warmConnections <= 0) return [];
  const conns = await connectMany(target(opts, payload, OP_TEXT), opts.warmConnections, 100);
  const batch = repeated(frame, WARM_ECHOES);
  for (const conn of conns) conn.send(batch, WARM_ECHOES);
  await drain(conns, 10000);
  await closeAll(conns);
  await serverSettled(opts.pids);
  return conns;
}

/**
 * Opens `count` connections in two halves, each connection echoing one message, and reads the server's
 * RSS before, between and after: the per-connection figure is the second half's growth. With `heap`, the server's
 * heap after a full collection too, each time just after the RSS (so that the RSS is the process's as it stands).
 */
async function idle(opts: ClientOptions): Promise<ScenarioResult> {
  const payload = textPayload(opts.size);
  const frame = clientFrame(OP_TEXT, payload);
  const openIdle = async (count: number) => {
    const conns = await connectMany(target(opts, payload, OP_TEXT), count, 100);
    for (const conn of conns) conn.send(frame, 1);
    await drain(conns, 10000);
    await sleep(opts.settle);
    return conns;
  };
  const reading = async () => {
    const rss = rssByProcess(opts.pids);
    return { rss, heap: opts.heap ? await heapAfterGc(opts) : undefined };
  };
  const warm = await warmUp(opts, payload, frame);
  await sleep(opts.settle);
  const before = await reading();
  const half = Math.floor(opts.count / 2);
  const first = await openIdle(half);
  const middle = await reading();
  const second = await openIdle(opts.count - half);
  const after = await reading();
  const conns = [...first, ...second];
  const verified = tally([...warm, ...conns]);
  // A warm-up connection whose close the server did not answer would leave a resumable session through the readings.
  verified.bad += warm.filter((conn) => !conn.closeReceived).length;
  await closeAll(conns);
  await serverSettled(opts.pids);
  const total = (rss: Record<string, number>) => Object.values(rss).reduce((a, b) => a + b, 0);
  const perProcess = Object.fromEntries(
    Object.keys(after.rss).map((key) => [key, ((after.rss[key] ?? 0) - (middle.rss[key] ?? 0)) / second.length]),
  );
  const heap = after.heap && middle.heap
    ? {
      heap: (after.heap.heapUsed - middle.heap.heapUsed) / second.length,
      heapMiddle: middle.heap.heapUsed,
      heapAfter: after.heap.heapUsed,
      // V8's young generation grows by steps of megabytes up to a maximum, a one-off growth that lands in one
      // half or the other: the RSS growth without it is what the connections themselves hold.
      ...(after.heap.young !== undefined && middle.heap.young !== undefined
        ? {
          young: (after.heap.young - middle.heap.young) / second.length,
          rssLessYoung: (total(after.rss) - total(middle.rss) - (after.heap.young - middle.heap.young)) /
            second.length,
        }
        : {}),
    }
    : {};
  return {
    // The second half's growth: what one more connection costs, without one-off costs such as the
    // upgrade path's first JIT compilation, which the first connections pay.
    value: (total(after.rss) - total(middle.rss)) / second.length,
    unit: "B/conn",
    average: (total(after.rss) - total(before.rss)) / conns.length,
    perProcess,
    before: total(before.rss),
    middle: total(middle.rss),
    after: total(after.rss),
    ...heap,
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
async function broadcast(opts: ClientOptions): Promise<ScenarioResult> {
  const payload = textPayload(opts.size);
  const frame = clientFrame(OP_TEXT, payload);
  const subscribers = await connectMany({ ...target(opts, payload, OP_TEXT), path: "/subscribe" }, opts.count, 100);
  const publisher = await connect({ ...target(opts, payload, OP_TEXT), path: "/publish" });
  // The servers subscribe in their open hook, which may run just after the client saw the 101.
  await sleep(opts.settle);
  let waiting = 0;
  let allReceived = () => {};
  for (const conn of subscribers) {
    conn.onMessage = () => {
      if (--waiting === 0) allReceived();
    };
  }
  const times: number[] = [];
  const cpu0 = cpuSeconds(opts.pids);
  const client0 = clientCpuSeconds();
  for (let round = 0; round < opts.rounds; round++) {
    for (const conn of subscribers) conn.sent++; // what each subscriber is owed
    waiting = subscribers.length;
    const arrived = new Promise<void>((resolve) => (allReceived = resolve));
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
  const verified = tally(subscribers);
  await closeAll([...subscribers, publisher]);
  const sorted = [...times].sort((a, b) => a - b);
  return {
    value: percentile(sorted, 50),
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

/** The load client's scenarios by name. */
export const CLIENT_SCENARIOS = { throughput, latency, large, churn, idle, broadcast };
type ClientScenario = keyof typeof CLIENT_SCENARIOS;

function parseArgs(argv: string[]): { scenario: ClientScenario; opts: ClientOptions } {
  const scenario = argv[0] as ClientScenario;
  const opts: ClientOptions = { port: 0, ...DEFAULTS };
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, "") as keyof ClientOptions;
    const value = argv[i + 1] ?? "";
    if (key === "pids") opts.pids = value ? value.split(",").map(Number) : [];
    else if (key === "resume" || key === "heap") opts[key] = value === "true";
    else if (key in opts) opts[key] = Number(value);
    else throw new Error(`unknown option --${key}`);
  }
  if (!(scenario in CLIENT_SCENARIOS) || !opts.port) {
    throw new Error(`usage: load-client.js <${Object.keys(CLIENT_SCENARIOS).join("|")}> --port P [options]`);
  }
  return { scenario, opts };
}

/** A result is valid when every echo came back whole and the figure is a number. */
function isVerified({ verified: v, expectedBytes, value }: ScenarioResult): boolean {
  return v.bad === 0 && v.sent === v.received && v.bytes === v.received * expectedBytes && v.received > 0 &&
    Number.isFinite(value);
}

async function main(): Promise<void> {
  const { scenario, opts } = parseArgs(process.argv.slice(2));
  // Bounded: whatever happens, this process ends.
  const limit = setTimeout(() => {
    console.error(`load client: ${scenario} exceeded its time limit`);
    process.exit(3);
  }, opts.duration + opts.warmup + 2 * opts.settle + 60000 + (opts.warmConnections > 0 ? WARM_UP_LIMIT : 0));
  limit.unref?.();
  const result = await CLIENT_SCENARIOS[scenario](opts);
  const ok = isVerified(result);
  result.verified = { ...result.verified, ok };
  process.stdout.write(`${JSON.stringify({ scenario, ...result })}\n`);
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`load client: ${error?.stack ?? error}`);
  process.exit(2);
});
