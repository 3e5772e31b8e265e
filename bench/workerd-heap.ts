/**
 * Where workerd's memory per idle connection goes, for one of two pairs of servers under `wrangler dev`, each fresh,
 * alternating:
 *
 * - `durable,resume` (the default): the resume scenario's two Durable Object servers, `durable` (a plain route) and
 *   `resume` (a route with `resume: true`), both bench/servers/durable-app.ts;
 * - `raw,edgesocket`: the idle scenario's plain Worker servers (no Durable Object), bench/servers/echo-raw-workerd.ts
 *   (a WebSocketPair by hand) and echo-edgesocket-workerd.ts.
 *
 * Opens `count` idle connections in two halves as the load client's `idle` scenario does (each echoes one message;
 * the resume ones speak the resume protocol), and at the start, between the halves and at the end reads the workerd
 * process's memory (/proc/<pid>/status: VmRSS, RssAnon, RssFile, RssShmem; /proc/<pid>/smaps: the resident anonymous
 * memory inside V8's pointer-compression cage, a reservation of 4 GiB or more, and outside it: malloc'd native memory,
 * stacks) and V8's heap through wrangler's inspector (`Runtime.getHeapUsage`: used and committed), then forces two
 * full collections (`HeapProfiler.collectGarbage`) and reads it all again. Prints one JSON line per run (per
 * connection figures over the second half; `grown`: the runs of mappings whose resident anonymous memory grew most over
 * it; `grownShared`: the same for their file-backed or shared resident memory) and a summary: per kind the median and
 * range of each figure, and the second kind's median minus the first's (resume − plain, edgesocket − raw). Findings:
 * docs/performance.md ("Resume", idle memory; "The message path", workerd's idle memory).
 *
 *   node_modules/.bin/bun bench/workerd-heap.ts [--kinds durable,resume] [--runs 3] [--count 2000] [--settle 2000]
 *     [--gc-middle true]
 *
 * `--gc-middle false` leaves out the collection between the halves, so that the second half grows from where the
 * first left V8's heap, as in the bench's idle scenario; the figures after a collection are then over the whole run.
 * Runs on Bun (its global WebSocket talks to the inspector); one server at a time, killed (SIGKILL to its process
 * group: workerd ignores SIGTERM) before the next starts.
 * @module
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, startCommand, WORKERS_COMPATIBILITY_DATE } from "../test/helpers/runtimes.ts";
import { wranglerToml } from "../test/helpers/wrangler.ts";
import { collectGarbage, Inspector } from "./inspector.ts";
import { groupPids } from "./proc.ts";
import { stopBenchServer, workerdBindings } from "./servers.ts";
import { spread } from "./stats.ts";
import { acceptsWebSocket, clientFrame, closeAll, type Conn, connectMany, OP_TEXT } from "./wire.ts";

/** The pairs of servers this compares: the base first. */
const PAIRS = [["durable", "resume"], ["raw", "edgesocket"]] as const;
type Pair = typeof PAIRS[number];
type Kind = Pair[number];

/** A kind's name in the summary (the durable route is the resume one's plain route). */
const label = (kind: Kind): string => kind === "durable" ? "plain" : kind;

interface Options {
  kinds: Pair;
  runs: number;
  count: number;
  settle: number;
  gcMiddle: boolean;
}

/** One look at the workerd process: its memory (bytes) and V8's heap. */
interface Reading {
  rss: number;
  rssAnon: number;
  /** Resident file-backed and shared memory (VmRSS = RssAnon + RssFile + RssShmem). */
  rssFile: number;
  rssShmem: number;
  /** Resident anonymous memory inside V8's cage, and outside it. */
  cage: number;
  native: number;
  /** V8's heap in use, and committed (`totalSize`). */
  used: number;
  committed: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function parseOptions(argv: string[]): Options {
  const options: Options = { kinds: PAIRS[0], runs: 3, count: 2000, settle: 2000, gcMiddle: true };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, "");
    const value = argv[i + 1] ?? "";
    if (key === "gc-middle") options.gcMiddle = value !== "false";
    else if (key === "kinds") {
      const pair = PAIRS.find((pair) => pair.join(",") === value);
      if (pair === undefined) throw new Error(`--kinds: one of ${PAIRS.map((pair) => pair.join(",")).join(", ")}`);
      options.kinds = pair;
    } else if (key === "runs" || key === "count" || key === "settle") options[key] = Number(value);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return options;
}

/** `/proc/<pid>/status`'s field `name` in bytes. */
function statusField(status: string, name: string): number {
  return Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
}

/**
 * A run of adjacent mappings (no gap between them): where it starts, what it spans, its resident anonymous bytes and
 * its other resident bytes (file-backed or shared).
 */
interface Region {
  start: number;
  span: number;
  anon: number;
  shared: number;
  /** The first mapping's path, if any (`[heap]`, `[stack]`, a file). */
  name: string;
}

/** `pid`'s mappings from /proc/<pid>/smaps, joined into runs of adjacent ones. */
function regions(pid: number): Region[] {
  const maps: { start: number; end: number; anon: number; rss: number; name: string }[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      maps.push({ start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), anon: 0, rss: 0, name: head[3]! });
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length > 0) maps[maps.length - 1]!.rss = Number(rss[1]) * 1024;
    const anon = /^Anonymous:\s+(\d+) kB/.exec(line);
    if (anon && maps.length > 0) maps[maps.length - 1]!.anon = Number(anon[1]) * 1024;
  }
  const runs: Region[] = [];
  for (let i = 0; i < maps.length;) {
    let j = i;
    let anon = maps[i]!.anon;
    let rss = maps[i]!.rss;
    while (j + 1 < maps.length && maps[j + 1]!.start === maps[j]!.end) {
      anon += maps[++j]!.anon;
      rss += maps[j]!.rss;
    }
    runs.push({
      start: maps[i]!.start,
      span: maps[j]!.end - maps[i]!.start,
      anon,
      shared: rss - anon,
      name: maps[i]!.name,
    });
    i = j + 1;
  }
  return runs;
}

/**
 * The resident anonymous memory of `pid` inside and outside V8's cage: the run of adjacent mappings that spans
 * 4 GiB or more is the cage (V8's heap, with pointer compression); workerd's other anonymous mappings are malloc's,
 * the threads' stacks and V8's code range.
 */
function anonymousByRegion(pid: number): { cage: number; native: number } {
  let cage = 0;
  let native = 0;
  for (const run of regions(pid)) {
    if (run.span >= 2 ** 32) cage += run.anon;
    else native += run.anon;
  }
  return { cage, native };
}

/**
 * The runs of mappings whose resident anonymous memory (or, with `part` "shared", their other resident memory) grew
 * most from `before` to `after` (bytes, spans in MiB).
 */
function grownRegions(before: Region[], after: Region[], part: "anon" | "shared" = "anon", top = 8) {
  const was = new Map(before.map((run) => [run.start, run[part]]));
  return after.map((run) => ({
    start: run.start.toString(16),
    spanMiB: Math.round(run.span / 2 ** 20),
    name: run.name,
    grown: run[part] - (was.get(run.start) ?? 0),
  })).sort((a, b) => b.grown - a.grown).slice(0, top);
}

async function read(pid: number, inspector: Inspector): Promise<Reading> {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const heap = await inspector.call("Runtime.getHeapUsage") as { usedSize: number; totalSize: number };
  return {
    rss: statusField(status, "VmRSS"),
    rssAnon: statusField(status, "RssAnon"),
    rssFile: statusField(status, "RssFile"),
    rssShmem: statusField(status, "RssShmem"),
    ...anonymousByRegion(pid),
    used: heap.usedSize,
    committed: heap.totalSize,
  };
}

function perConnection(after: Reading, before: Reading, count: number): Reading {
  const keys = Object.keys(after) as (keyof Reading)[];
  return Object.fromEntries(
    keys.map((key) => [key, Math.round((after[key] - before[key]) / count)]),
  ) as unknown as Reading;
}

/** One fresh server of `kind`: readings as the connections open, per connection over the second half. */
async function measure(kind: Kind, options: Options, scratch: string) {
  const folder = path.join(scratch, kind);
  mkdirSync(folder, { recursive: true });
  const config = path.join(folder, "wrangler.toml");
  writeFileSync(config, wranglerToml(`heap-${kind}`, workerdBindings(kind)));
  const server = await startCommand((port, inspector) => {
    const entry = path.join(ROOT, "bench", "servers", `echo-${kind}-workerd.ts`);
    return [path.join(ROOT, "node_modules", ".bin", "wrangler"), [
      ...["dev", entry, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector)],
      ...["--compatibility-date", WORKERS_COMPATIBILITY_DATE, "--config", config],
    ]];
  }, { ready: acceptsWebSocket, startupTimeout: 90_000 });
  console.error(`${kind}: server ${server.pid} on ${server.port}`);
  let inspector: Inspector | undefined;
  try {
    inspector = await Inspector.open(server.inspectorPort);
    // wrangler runs two workerd processes: its proxy on the public port, and the Worker's (with the inspector).
    const workerd = groupPids(server.pid).find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((arg) => arg.startsWith("--inspector-addr"))
    );
    if (workerd === undefined) throw new Error("no workerd process with an inspector in the server's group");
    console.error(`${kind}: workerd ${workerd}, inspector ${server.inspectorPort}`);
    const payload = Buffer.alloc(32, "edgesocket-bench-");
    const frame = clientFrame(OP_TEXT, payload);
    const open = async (count: number) => {
      const conns = await connectMany(
        { port: server.port, expected: payload, expectedOp: OP_TEXT, resume: kind === "resume" },
        count,
        100,
      );
      for (const conn of conns) conn.send(frame, 1);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && conns.some((conn) => conn.received < conn.sent)) await sleep(5);
      await sleep(options.settle);
      return conns;
    };
    await sleep(options.settle);
    const half = Math.floor(options.count / 2);
    const start = await read(workerd, inspector);
    console.error(`${kind}: start`, JSON.stringify(start));
    const first: Conn[] = await open(half);
    const middle = await read(workerd, inspector);
    const middleRegions = regions(workerd);
    if (options.gcMiddle) await collectGarbage(inspector, server.port);
    const middleGc = options.gcMiddle ? await read(workerd, inspector) : start;
    const second = await open(options.count - half);
    const end = await read(workerd, inspector);
    const endRegions = regions(workerd);
    const grown = grownRegions(middleRegions, endRegions);
    const grownShared = grownRegions(middleRegions, endRegions, "shared", 4);
    await collectGarbage(inspector, server.port);
    const endGc = await read(workerd, inspector);
    const conns = [...first, ...second];
    const broken = conns.filter((conn) => conn.bad > 0 || conn.received !== conn.sent).length;
    await closeAll(conns);
    if (broken > 0) console.error(`${kind}: ${broken} connections broke the echo: this run's figures are suspect`);
    return {
      kind,
      broken,
      start,
      middle,
      middleGc,
      end,
      endGc,
      // The second half's growth per connection, as it stands and after a collection (without --gc-middle: over
      // every connection, from the start).
      perConnection: perConnection(end, middle, second.length),
      perConnectionGc: options.gcMiddle
        ? perConnection(endGc, middleGc, second.length)
        : perConnection(endGc, start, conns.length),
      // What a collection gave back at the end (bytes, the whole process).
      freedByGc: perConnection(end, endGc, 1),
      // Where the second half's resident anonymous memory went, before the last collection.
      grown,
      // Where its resident file-backed or shared memory went.
      grownShared,
    };
  } finally {
    inspector?.close();
    await stopBenchServer(server);
    // A fresh storage for the next server of this kind: sessions left in it would be restored on its first event.
    rmSync(folder, { recursive: true, force: true });
  }
}

function summary(results: Awaited<ReturnType<typeof measure>>[], [base, other]: Pair): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const figure of ["perConnection", "perConnectionGc"] as const) {
    const byKind = (kind: Kind) => results.filter((r) => r.kind === kind).map((r) => r[figure]);
    const keys = Object.keys(results[0]![figure]) as (keyof Reading)[];
    out[figure] = Object.fromEntries(keys.map((key) => {
      const first = spread(byKind(base).map((r) => r[key]));
      const second = spread(byKind(other).map((r) => r[key]));
      return [key, {
        [label(base)]: first?.median,
        [`${label(base)}Range`]: first && [first.min, first.max],
        [label(other)]: second?.median,
        [`${label(other)}Range`]: second && [second.min, second.max],
        difference: first && second ? second.median - first.median : undefined,
      }];
    }));
  }
  return out;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const scratch = mkdtempSync(path.join(tmpdir(), "workerd-heap-"));
  const results: Awaited<ReturnType<typeof measure>>[] = [];
  try {
    for (let run = 0; run < options.runs; run++) {
      // Alternating which goes first, so that neither always runs on the machine as the other left it.
      const order = run % 2 === 0 ? options.kinds : [...options.kinds].reverse();
      for (const kind of order) {
        const result = await measure(kind, options, scratch);
        results.push(result);
        console.log(JSON.stringify({ run, ...result }));
      }
    }
    console.log(JSON.stringify({ options }));
    for (const [figure, keys] of Object.entries(summary(results, options.kinds))) {
      for (const [key, value] of Object.entries(keys as object)) console.log(JSON.stringify({ figure, key, ...value }));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
