/**
 * The load client of the fan-out benchmark, run by the runner as its own process (pinned to its
 * own core): `node dist/bench/fanout/load-main.js '<LoadConfig as JSON>'`.
 *
 * It opens the subscribers (spread over both servers and every room) and two publishers per room
 * (one on each server), and probes every room until each subscriber has heard each of its
 * publishers. Then two phases, each a warm-up and a measured window:
 * - saturation: every publisher keeps `inflight` publications under way (a publication is done once
 *   all subscribers of its room have it, and the next one goes out): the deliveries per second;
 * - fixed rate: `rate` publications per second in all, round-robin over the publishers, whatever the
 *   deliveries: the publish-to-deliver latency of a server that is not overloaded.
 *
 * Each publication is `<publisher> <sequence> <send time in ms>`; each subscriber checks that it
 * gets every sequence of each of its room's publishers exactly once and in order. It prints
 * `{"event":"window-start","phase":…}`, `{"event":"window-end",…}` and finally
 * `{"event":"result",…}` as JSON lines on stdout.
 * @module
 */
import { performance } from "node:perf_hooks";
import process from "node:process";
import WebSocket from "ws";
import { type Role, type Sender, type ServerKind, type Wire, wireOf } from "./wire.ts";

/** What the runner asks of the load client. */
export interface LoadConfig {
  kind: ServerKind;
  /** The `ws://127.0.0.1:PORT` of each server process. */
  servers: string[];
  rooms: number;
  subscribers: number;
  /** Publications under way per publisher in the saturation phase. */
  inflight: number;
  /** Publications per second, over all publishers, in the fixed-rate phase. */
  rate: number;
  /** Warm-up of each phase. */
  warmupMs: number;
  /** Measured window of each phase. */
  measureMs: number;
}

/** What one measured window saw. */
export interface WindowResult {
  /** Deliveries received in the window, per second. */
  deliveriesPerSecond: number;
  /** Publish-to-deliver latency of those deliveries, ms. */
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the load client in the window, as a fraction of one core. */
  clientCpu: number;
}

/** What one load run measured and checked. */
export interface LoadResult {
  saturation: WindowResult;
  fixedRate: WindowResult;
  /** Totals over the whole run (warm-up, window and drain). */
  published: number;
  expectedDeliveries: number;
  deliveries: number;
  /** Deliveries that never came (after a drain of up to 15 s). */
  missing: number;
  /** Deliveries out of order, repeated, from another room or beyond what was published. */
  wrong: number;
  /** The first few problems, in words. */
  problems: string[];
}

/** A phase of the run. */
export type Phase = "saturation" | "fixedRate";

const CONNECT_TIMEOUT_MS = 30_000;
const CONNECT_CONCURRENCY = 64;
const PROBE_INTERVAL_MS = 250;
const PACE_TICK_MS = 5;
const PROBE_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 15_000;
const MAX_PUBLICATIONS_PER_PUBLISHER = 10_000_000;
const MAX_PROBLEMS = 10;
/** Latency histogram: 10 µs buckets up to 5 s; slower deliveries land in the last one. */
const BUCKETS_PER_MS = 100;
const HISTOGRAM_BUCKETS = 5_000 * BUCKETS_PER_MS + 1;
const PROBE = -1;

interface Publisher {
  readonly index: number;
  readonly room: number;
  /** Which server it is on, also its slot in a subscriber's `next`. */
  readonly server: number;
  socket?: Sender;
  sent: number;
  completed: number;
  /** Sequence → subscribers that have not got it yet. */
  readonly pending: Map<number, number>;
  /** Subscribers of its room that have heard one of its probes. */
  probed: number;
}

interface Subscriber {
  readonly index: number;
  readonly room: number;
  /** The next sequence expected from the room's publisher on each server. */
  readonly next: number[];
  readonly probed: boolean[];
}

/** Publish-to-deliver latencies in 10 µs buckets (exported for its tests). */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(HISTOGRAM_BUCKETS);
  #total = 0;

  add(ms: number): void {
    const bucket = Math.min(Math.max(Math.round(ms * BUCKETS_PER_MS), 0), HISTOGRAM_BUCKETS - 1);
    this.#counts[bucket]!++;
    this.#total++;
  }

  /** The `q` quantile (0–1) in ms, NaN when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return NaN;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let bucket = 0; bucket < HISTOGRAM_BUCKETS; bucket++) {
      seen += this.#counts[bucket]!;
      if (seen >= rank) return bucket / BUCKETS_PER_MS;
    }
    return NaN;
  }
}

/** The state of one run and the checks on every delivery (exported for its tests). */
export class FanoutLoad {
  readonly wire: Wire;
  readonly publishers: Publisher[] = [];
  readonly subscribers: Subscriber[] = [];
  readonly roomSize: number[];
  /** Whether deliveries make publishers publish again (the saturation phase). */
  pumping = false;
  /** Whether the run is on: a connection closing now is a problem. */
  running = false;
  /** The window being measured, if one is. */
  window: { histogram: LatencyHistogram; deliveries: number } | undefined;
  deliveries = 0;
  wrong = 0;
  readonly problems: string[] = [];

  constructor(readonly config: LoadConfig) {
    this.wire = wireOf(config.kind);
    this.roomSize = new Array<number>(config.rooms).fill(0);
    for (let index = 0; index < config.subscribers; index++) {
      const room = index % config.rooms;
      this.roomSize[room]!++;
      this.subscribers.push({
        index,
        room,
        next: config.servers.map(() => 0),
        probed: config.servers.map(() => false),
      });
    }
    for (let room = 0; room < config.rooms; room++) {
      config.servers.forEach((_, server) => {
        this.publishers.push({
          index: this.publishers.length,
          room,
          server,
          sent: 0,
          completed: 0,
          pending: new Map(),
          probed: 0,
        });
      });
    }
  }

  /** Subscriber `i` is on server `⌊i / rooms⌋ mod servers`, so each room's subscribers alternate between them. */
  serverOf(subscriber: Subscriber): number {
    return Math.floor(subscriber.index / this.config.rooms) % this.config.servers.length;
  }

  problem(text: string): void {
    this.wrong++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(text);
  }

  delivered(subscriber: Subscriber, publication: string, now: number): void {
    const [publisherText, sequenceText, sentText] = publication.split(" ");
    const publisher = this.publishers[Number(publisherText)];
    const sequence = Number(sequenceText);
    if (!publisher || publisher.room !== subscriber.room) {
      return this.problem(`subscriber ${subscriber.index} of room ${subscriber.room} got "${publication}"`);
    }
    if (sequence === PROBE) return this.probeHeard(subscriber, publisher);
    this.deliveries++;
    const expected = subscriber.next[publisher.server]!;
    if (sequence !== expected) {
      this.problem(
        `subscriber ${subscriber.index} expected ${expected} from publisher ${publisher.index}, got ${sequence}`,
      );
    }
    subscriber.next[publisher.server] = Math.max(expected, sequence + 1);
    const left = publisher.pending.get(sequence);
    if (left === undefined) return this.problem(`publisher ${publisher.index}: ${sequence} delivered once too often`);
    if (this.window) {
      this.window.deliveries++;
      this.window.histogram.add(now - Number(sentText));
    }
    if (left > 1) return void publisher.pending.set(sequence, left - 1);
    publisher.pending.delete(sequence);
    publisher.completed++;
    this.pump(publisher);
  }

  probeHeard(subscriber: Subscriber, publisher: Publisher): void {
    if (subscriber.probed[publisher.server]) return;
    subscriber.probed[publisher.server] = true;
    publisher.probed++;
  }

  /** In the saturation phase, sends publications until `inflight` are under way. */
  pump(publisher: Publisher): void {
    while (this.pumping && publisher.sent - publisher.completed < this.config.inflight) this.publishNext(publisher);
  }

  publishNext(publisher: Publisher): void {
    if (publisher.sent >= MAX_PUBLICATIONS_PER_PUBLISHER) return;
    const sequence = publisher.sent++;
    publisher.pending.set(sequence, this.roomSize[publisher.room]!);
    this.send(publisher, sequence);
  }

  send(publisher: Publisher, sequence: number): void {
    const publication = `${publisher.index} ${sequence} ${performance.now().toFixed(3)}`;
    this.wire.publish(publisher.socket!, roomName(publisher.room), publication);
  }

  unprobed(): Publisher[] {
    return this.publishers.filter((publisher) => publisher.probed < this.roomSize[publisher.room]!);
  }

  unfinished(): Publisher[] {
    return this.publishers.filter((publisher) => publisher.completed < publisher.sent);
  }
}

function roomName(room: number): string {
  return `room-${room}`;
}

/** Opens one connection and resolves once the wire says it is ready. */
function open(
  load: FanoutLoad,
  url: string,
  role: Role,
  room: number,
  onPublication: (publication: string, now: number) => void,
): Promise<WebSocket> {
  const socket = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${url}: not ready within ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    };
    const ready = () => {
      clearTimeout(timer);
      socket.on("close", (code) => {
        if (load.running) load.problem(`${url} closed with ${code} during the run`);
      });
      resolve(socket);
    };
    socket.on("open", () => load.wire.opened(socket, role, ready));
    socket.on("message", (data) => {
      const now = performance.now();
      const publication = load.wire.received(socket, String(data), role, roomName(room), ready);
      if (publication !== undefined) onPublication(publication, now);
    });
    socket.on("error", fail);
    socket.on("unexpected-response", (_request, response) => fail(new Error(`${url}: HTTP ${response.statusCode}`)));
  });
}

/** Runs `tasks` with at most `limit` at a time. */
async function inBatches<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < tasks.length; start += limit) {
    results.push(...await Promise.all(tasks.slice(start, start + limit).map((task) => task())));
  }
  return results;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function connectAll(load: FanoutLoad): Promise<WebSocket[]> {
  const { servers } = load.config;
  const subscribers = load.subscribers.map((subscriber) => () =>
    open(
      load,
      load.wire.url(servers[load.serverOf(subscriber)]!, "sub", roomName(subscriber.room)),
      "sub",
      subscriber.room,
      (publication, now) => load.delivered(subscriber, publication, now),
    )
  );
  const publishers = load.publishers.map((publisher) => async () => {
    const url = load.wire.url(servers[publisher.server]!, "pub", roomName(publisher.room));
    const socket = await open(
      load,
      url,
      "pub",
      publisher.room,
      (publication) => load.problem(`publisher got "${publication}"`),
    );
    publisher.socket = socket;
    return socket;
  });
  return inBatches([...subscribers, ...publishers], CONNECT_CONCURRENCY);
}

/** Probes until every subscriber has heard each publisher of its room: then every subscription is in place everywhere. */
async function probeRooms(load: FanoutLoad): Promise<void> {
  const deadline = performance.now() + PROBE_TIMEOUT_MS;
  for (let waiting = load.unprobed(); waiting.length > 0; waiting = load.unprobed()) {
    if (performance.now() > deadline) {
      throw new Error(`${waiting.length} publishers not heard by all of their room within ${PROBE_TIMEOUT_MS} ms`);
    }
    for (const publisher of waiting) load.send(publisher, PROBE);
    await sleep(PROBE_INTERVAL_MS);
  }
}

async function drain(load: FanoutLoad): Promise<void> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (load.unfinished().length > 0 && performance.now() < deadline) await sleep(50);
}

/** Writes one JSON line on stdout for the runner. */
export function emit(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Publishes `rate` publications per second, round-robin over the publishers, for `ms`. */
async function publishAtRate(load: FanoutLoad, ms: number): Promise<void> {
  const start = performance.now();
  let sent = 0;
  for (let elapsed = 0; elapsed < ms; elapsed = performance.now() - start) {
    const due = Math.floor((elapsed / 1000) * load.config.rate);
    for (; sent < due; sent++) load.publishNext(load.publishers[sent % load.publishers.length]!);
    await sleep(PACE_TICK_MS);
  }
}

/** Runs `publish` for a warm-up and then a measured window, and says what the window saw. */
async function measure(load: FanoutLoad, phase: Phase, publish: (ms: number) => Promise<void>): Promise<WindowResult> {
  const { warmupMs, measureMs } = load.config;
  const measured = (async () => {
    await sleep(warmupMs);
    emit({ event: "window-start", phase });
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const window = load.window = { histogram: new LatencyHistogram(), deliveries: 0 };
    await sleep(measureMs);
    load.window = undefined;
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    emit({ event: "window-end", phase });
    return {
      deliveriesPerSecond: window.deliveries / seconds,
      p50Ms: window.histogram.quantile(0.5),
      p99Ms: window.histogram.quantile(0.99),
      clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    };
  })();
  await publish(warmupMs + measureMs);
  const result = await measured;
  await drain(load);
  return result;
}

/** Connects, probes, runs both phases, and returns what it measured and checked. */
export async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const load = new FanoutLoad(config);
  const sockets = await connectAll(load);
  try {
    await probeRooms(load);
    load.running = true;
    const saturation = await measure(load, "saturation", async (ms) => {
      load.pumping = true;
      for (const publisher of load.publishers) load.pump(publisher);
      await sleep(ms);
      load.pumping = false;
    });
    const fixedRate = await measure(load, "fixedRate", (ms) => publishAtRate(load, ms));
    load.running = false;
    return {
      saturation,
      fixedRate,
      published: load.publishers.reduce((sum, publisher) => sum + publisher.sent, 0),
      expectedDeliveries: load.publishers.reduce((sum, p) => sum + p.sent * load.roomSize[p.room]!, 0),
      deliveries: load.deliveries,
      missing: load.publishers.reduce((sum, p) => sum + [...p.pending.values()].reduce((a, b) => a + b, 0), 0),
      wrong: load.wrong,
      problems: load.problems,
    };
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}
