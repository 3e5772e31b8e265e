#!/usr/bin/env node
/**
 * `npm run bench`: starts each echo server as its own process, drives it with bench/client.mjs,
 * and writes bench/results/latest.{md,svg,json}.
 *
 *   node bench/run.mjs [--quick | --smoke] [--servers a,b] [--scenarios idle,latency] [--repeats N] [--out DIR] [--readme]
 *
 * `--readme` also writes the results and targets tables into README.md's "Performance" section.
 *
 * Servers are pinned to CPU 0 and the client to CPU 1 with `taskset` when it exists. Repeats are
 * interleaved (every server once per round, in a different order each round) and reported as medians,
 * each with its ratio to the raw server of its runtime measured in the same run.
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const COMPATIBILITY_DATE = "2026-04-20";

// --- what is measured ---

const RUNTIMES = ["bun", "deno", "workerd", "node", "python"];
/** Servers run only when named with `--servers`: references for a question, not for the targets. */
const REFERENCE_SERVERS = ["node-rawtext"];
const DEFAULT_SERVERS = [
  ...["raw", "edgesocket", "hono", "crossws"].map((kind) => `bun-${kind}`),
  ...["raw", "edgesocket", "hono", "crossws"].map((kind) => `deno-${kind}`),
  ...["raw", "edgesocket", "hono"].map((kind) => `workerd-${kind}`),
  ...["raw", "edgesocket", "hono", "crossws"].map((kind) => `node-${kind}`),
  "python-tornado",
];
const ALL_SERVERS = [...DEFAULT_SERVERS, ...REFERENCE_SERVERS];

const MODES = {
  full: {
    repeats: 5,
    scenarios: {
      idle: { count: 5000, settle: 500 },
      latency: { count: 5000, duration: 3000, warmup: 5000 },
      throughput: { connections: 50, inflight: 16, size: 32, warmup: 300, duration: 1500 },
      large: { connections: 4, inflight: 4, size: 65536, warmup: 300, duration: 1200 },
      churn: { connections: 8, duration: 1200 },
      broadcast: { count: 5000, rounds: 20, gap: 20, settle: 300 },
    },
  },
  quick: {
    repeats: 1,
    scenarios: {
      idle: { count: 1000, settle: 500 },
      latency: { count: 2000, duration: 1000, warmup: 2000 },
      throughput: { connections: 50, inflight: 16, size: 32, warmup: 300, duration: 800 },
      large: { connections: 4, inflight: 4, size: 65536, warmup: 300, duration: 800 },
      churn: { connections: 8, duration: 800 },
      broadcast: { count: 5000, rounds: 10, gap: 20, settle: 300 },
    },
  },
  smoke: {
    repeats: 1,
    servers: ["bun-raw", "bun-edgesocket"],
    scenarios: {
      idle: { count: 20, settle: 100 },
      latency: { count: 100, duration: 300 },
      throughput: { connections: 4, inflight: 4, size: 32, warmup: 100, duration: 200 },
      large: { connections: 1, inflight: 2, size: 65536, warmup: 100, duration: 200 },
      churn: { connections: 2, duration: 200 },
      broadcast: { count: 20, rounds: 3, gap: 10, settle: 100 },
    },
  },
};

/** Metrics in the tables: where to read them and which direction is better. */
const METRICS = [
  { key: "throughput", label: "throughput msg/s", read: (r) => r.throughput?.value, higher: true },
  { key: "latency50", label: "latency p50 µs", read: (r) => r.latency?.p50, higher: false },
  { key: "latency99", label: "latency p99 µs", read: (r) => r.latency?.p99, higher: false },
  { key: "large", label: "64 KiB MB/s", read: (r) => r.large?.value, higher: true },
  { key: "churn", label: "churn conn/s", read: (r) => r.churn?.value, higher: true },
  { key: "idle", label: "idle B/conn", read: (r) => r.idle?.value, higher: false },
  { key: "broadcast", label: "broadcast ms", read: (r) => r.broadcast?.value, higher: false },
];

/**
 * Server CPU time per echoed message in the throughput scenario, in µs: unlike messages per second it
 * does not depend on whether the client or (on workerd) wrangler's proxy was the limit.
 */
const CPU_PER_MESSAGE = {
  key: "cpuPerMessage",
  read: (
    r,
  ) => (r.throughput?.serverCpu && r.throughput.value
    ? (r.throughput.serverCpu / r.throughput.value) * 1e6
    : undefined),
  higher: false,
};

/**
 * The servers that serve the broadcast scenario (`/subscribe`, `/publish`): Bun's raw server with its
 * native `server.publish`, and edgesocket where it has pub/sub (Bun: native topics; Deno and Node: a loop
 * over an in-memory topic). A plain workerd Worker has no pub/sub; Hono's helper and crossws are not compared.
 */
const BROADCAST_SERVERS = ["bun-raw", "bun-edgesocket", "deno-edgesocket", "node-edgesocket"];

/**
 * Under `wrangler dev`, workerd holds several file descriptors per WebSocket, and this machine's hard
 * limit is 20,000 open files (not raisable in the container): 5,000 idle sockets end workerd with
 * "accept: Too many open files". Its idle scenario uses at most this many connections.
 */
const WORKERD_IDLE_LIMIT = 2000;

const BROADCAST_NOTE =
  "Broadcast: one 32 B text message from a publisher socket to every subscriber; the time until the last subscriber has it (median over the rounds). " +
  "bun-raw uses Bun's native server.publish, bun-edgesocket this.publish (Bun's native topics underneath); deno- and node-edgesocket (an in-memory topic loop) are for reference, with no raw counterpart.";

// --- arguments ---

function parseArgs(argv) {
  const args = {
    mode: "full",
    servers: undefined,
    scenarios: undefined,
    repeats: undefined,
    out: path.join(ROOT, "bench", "results"),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") args.mode = "quick";
    else if (arg === "--smoke") args.mode = "smoke";
    else if (arg === "--servers") args.servers = argv[++i].split(",").filter(Boolean);
    else if (arg === "--scenarios") args.scenarios = argv[++i].split(",").filter(Boolean);
    else if (arg === "--repeats") args.repeats = Number(argv[++i]);
    else if (arg === "--out") args.out = path.resolve(argv[++i]);
    else if (arg === "--readme") args.readme = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const name of args.servers ?? []) if (!ALL_SERVERS.includes(name)) throw new Error(`unknown server ${name}`);
  for (const name of args.scenarios ?? []) {
    if (!(name in MODES.full.scenarios)) throw new Error(`unknown scenario ${name}`);
  }
  return args;
}

// --- environment ---

function run(command, args) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 30000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

function findTornadoPython() {
  for (const python of ["python3", "/usr/bin/python3"]) {
    const version = run(python, ["-c", "import sys, tornado; print(sys.version.split()[0], tornado.version)"]);
    if (version) return { python, version };
  }
  return undefined;
}

function machineInfo(tools) {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    bun: tools.bun ? run(tools.bun, ["--version"]) : undefined,
    deno: tools.deno ? run(tools.deno, ["--version"])?.split("\n")[0] : undefined,
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd"),
    python: tools.tornado?.version,
    hono: packageVersion("hono"),
    crossws: packageVersion("crossws"),
    ws: packageVersion("ws"),
    "@hono/node-ws": packageVersion("@hono/node-ws"),
    client: `bench/client.mjs on ${tools.clientRuntime} (raw node:net sockets)`,
    pinning: tools.taskset ? "server on CPU 0, client on CPU 1 (taskset)" : "none (taskset or a second CPU missing)",
  };
}

function findTools() {
  const tool = (name) => (existsSync(path.join(BIN, name)) ? path.join(BIN, name) : undefined);
  const bun = tool("bun");
  const taskset = os.cpus().length >= 2 && run("taskset", ["-c", "0", "true"]) !== undefined ? "taskset" : undefined;
  return {
    bun,
    deno: tool("deno"),
    wrangler: tool("wrangler"),
    tsc: tool("tsc"),
    tornado: findTornadoPython(),
    taskset,
    // Measured here: on one core the Bun client drives bun-raw to ~1.75 M msg/s with the server at 98 % CPU,
    // the same client under Node 20 reaches ~0.95 M with neither side saturated.
    clientRuntime: bun ? "bun" : "node",
    clientCommand: bun ?? process.execPath,
  };
}

/** Why a server cannot run here, or undefined. */
function missing(name, tools) {
  const runtime = name.split("-")[0];
  if (runtime === "bun" && !tools.bun) return "bun is not installed";
  if (runtime === "deno" && !tools.deno) return "deno is not installed";
  if (runtime === "workerd" && !tools.wrangler) return "wrangler is not installed";
  if (runtime === "node" && !tools.tsc) return "typescript is not installed";
  if (runtime === "python" && !tools.tornado) {
    return "skipped: no python3 with tornado (apt-get install python3-tornado)";
  }
  return undefined;
}

// --- server processes ---

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function serverCommand(name, port, tools, scratch) {
  const [runtime] = name.split("-");
  const file = path.join(ROOT, "bench", "servers", name);
  if (runtime === "bun") return [tools.bun, [`${file}.ts`]];
  if (runtime === "deno") return [tools.deno, ["run", "--allow-net", "--allow-env", "--allow-read", `${file}.ts`]];
  if (runtime === "node") return [process.execPath, [path.join(ROOT, "dist", "bench", "servers", `${name}.js`)]];
  if (runtime === "python") return [tools.tornado.python, [`${file}.py`]];
  // workerd: one wrangler config per worker, written outside the repository.
  const config = path.join(scratch, `${name}.toml`);
  writeFileSync(config, `name = "bench-${name}"\nmain = "${file}.ts"\ncompatibility_date = "${COMPATIBILITY_DATE}"\n`);
  const inspector = await freePort();
  return [
    tools.wrangler,
    [
      "dev",
      "-c",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--persist-to",
      path.join(scratch, "state"),
    ],
  ];
}

const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CI: "1", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

async function startServer(name, tools, scratch, logDir) {
  const port = await freePort();
  const [command, args] = await serverCommand(name, port, tools, scratch);
  const pinned = tools.taskset ? ["taskset", ["-c", "0", command, ...args]] : [command, args];
  const log = openSync(path.join(logDir, `${name}.log`), "a");
  const child = spawn(pinned[0], pinned[1], {
    cwd: ROOT,
    env: { ...process.env, ...WRANGLER_ENV, PORT: String(port) },
    detached: true, // its own process group, so wrangler and workerd go together
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const server = { name, port, child, exited, pgid: child.pid };
  const startup = name.startsWith("workerd") ? 90000 : 30000;
  try {
    await waitForUpgrade(port, startup, exited);
  } catch (error) {
    await stopServer(server);
    throw error;
  }
  return server;
}

/** Resolves once the server answers a WebSocket handshake with 101. */
async function waitForUpgrade(port, timeout, exited) {
  const deadline = Date.now() + timeout;
  let dead = false;
  exited.then(() => (dead = true));
  while (Date.now() < deadline) {
    if (dead) throw new Error("server exited during startup");
    if (await answers101(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not accept a WebSocket within ${timeout / 1000} s`);
}

function answers101(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let head = "";
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2000);
    socket.on("error", () => done(false));
    socket.on("connect", () =>
      socket.write(
        `GET /websocketserver HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ));
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (head.includes("\r\n")) done(head.startsWith("HTTP/1.1 101"));
    });
  });
}

async function stopServer(server) {
  try {
    process.kill(-server.pgid, "SIGKILL"); // workerd ignores SIGTERM
  } catch {
    // already gone
  }
  await Promise.race([server.exited, sleep(5000)]);
  // Every process of the group gone (workerd outlives wrangler for a moment), then a pause so that the
  // kernel's teardown of thousands of sockets is not billed to the next server.
  for (let waited = 0; groupPids(server.pgid, { live: true }).length > 0 && waited < 5000; waited += 50) {
    await sleep(50);
  }
  await sleep(SERVER_COOLDOWN_MS);
}

const SERVER_COOLDOWN_MS = 300;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every process in the server's process group (wrangler, workerd, ...), for RSS and CPU readings;
 * `live`: without zombies (this container's init may never reap a killed server's children).
 */
function groupPids(pgid, { live = false } = {}) {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && !(live && fields[0] === "Z")) pids.push(Number(entry));
    } catch {
      // the process exited meanwhile
    }
  }
  return pids;
}

// --- client ---

function runClient(scenario, port, params, tools, pids) {
  const args = [path.join(ROOT, "bench", "client.mjs"), scenario, "--port", String(port), "--pids", pids.join(",")];
  for (const [key, value] of Object.entries(params)) args.push(`--${key}`, String(value));
  const [command, fullArgs] = tools.taskset
    ? ["taskset", ["-c", "1", tools.clientCommand, ...args]]
    : [tools.clientCommand, args];
  return new Promise((resolve) => {
    const child = spawn(command, fullArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      let result;
      try {
        result = JSON.parse(stdout.trim().split("\n").pop());
      } catch {
        // no JSON line: reported below from stderr
      }
      if (code === 0 && result?.verified?.ok) return resolve(result);
      const reason = result
        ? `echo check failed: ${JSON.stringify(result.verified)}`
        : stderr.trim().split("\n").pop() || `exit ${code}`;
      resolve({ ...(result ?? {}), value: undefined, failed: reason });
    });
  });
}

// --- statistics ---

function median(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function seededShuffle(items, seed) {
  const out = [...items];
  let state = seed * 2654435761;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Performance relative to `base`, >1 is better whatever the metric's direction. */
function ratio(metric, value, base) {
  if (value === undefined || base === undefined || value === 0 || base === 0) return undefined;
  return metric.higher ? value / base : base / value;
}

/**
 * The median over the rounds of `result` compared with `base` in the same round (a ratio; for idle
 * memory a difference in bytes). Pairing by round cancels the machine's slow drifts, which on a shared
 * two-core machine are larger than the gaps measured.
 */
function pairedComparison(metric, result, base) {
  const values = [];
  result.runs.forEach((run, i) => {
    const j = base.rounds.indexOf(result.rounds[i]);
    if (j < 0) return;
    const value = metric.read(run);
    const baseValue = metric.read(base.runs[j]);
    if (value === undefined || baseValue === undefined) return;
    values.push(metric.key === "idle" ? value - baseValue : ratio(metric, value, baseValue));
  });
  return median(values);
}

function summarize(results, names) {
  const summary = {};
  for (const name of names) {
    const runs = results[name].runs;
    const medians = {};
    for (const metric of METRICS) medians[metric.key] = median(runs.map((run) => metric.read(run)));
    for (const key of ["serverCpu", "clientCpu", "otherCpu"]) {
      medians[key] = median(runs.map((run) => run.throughput?.[key]));
    }
    medians.cpuPerMessage = median(runs.map(CPU_PER_MESSAGE.read));
    const verified = { echoes: 0, ok: runs.length > 0 };
    const failed = new Map(); // "scenario: what failed" → rounds
    for (const run of runs) {
      for (const [scenario, r] of Object.entries(run)) {
        verified.echoes += r.verified?.received ?? 0;
        if (r.failed) {
          verified.ok = false;
          const what = `${scenario}: ${String(r.failed).replace(/: \{.*$/, "")}`; // without the counts
          failed.set(what, (failed.get(what) ?? 0) + 1);
        }
      }
    }
    const failures = [...failed].map(([what, count]) => `${what} (${count} of ${runs.length} rounds)`);
    summary[name] = { medians, verified, failures, error: results[name].error };
  }
  for (const name of names) {
    const [runtime, kind] = name.split("-");
    const against = (other) => {
      const baseName = `${runtime}-${other}`;
      if (!summary[baseName] || baseName === name) return undefined;
      const out = {};
      for (const metric of [...METRICS, CPU_PER_MESSAGE]) {
        out[metric.key] = pairedComparison(metric, results[name], results[baseName]);
      }
      return out;
    };
    summary[name].vsRaw = kind === "raw" ? undefined : against("raw");
    summary[name].vsHono = kind === "edgesocket" ? against("hono") : undefined;
    summary[name].vsCrossws = kind === "edgesocket" ? against("crossws") : undefined;
  }
  return summary;
}

// --- output ---

const fmt = (value, digits = 0) =>
  value === undefined || value === null || !Number.isFinite(value)
    ? "–"
    : value >= 1000
    ? Math.round(value).toLocaleString("en-US")
    : value.toFixed(digits);
const fmtRatio = (value) => (value === undefined ? "" : ` (${value.toFixed(2)}×)`);
const fmtDelta = (bytes) => (bytes === undefined ? "" : ` (${bytes >= 0 ? "+" : ""}${(bytes / 1024).toFixed(2)} KiB)`);

/** The main table: one row per server, medians and (in parentheses) the paired comparison with raw. */
function resultsTable({ summary, names, skipped }) {
  const lines = [];
  lines.push("| server | " + METRICS.map((m) => m.label).join(" | ") + " | echoes verified |");
  lines.push("|---|" + METRICS.map(() => "---:").join("|") + "|---|");
  for (const name of names) {
    const s = summary[name];
    if (s.error) {
      lines.push(`| ${name} | ${METRICS.map(() => "–").join(" | ")} | FAILED to start: ${s.error} |`);
      continue;
    }
    const cells = METRICS.map((m) => {
      const value = s.medians[m.key];
      const rel = m.key === "idle" ? fmtDelta(s.vsRaw?.idle) : fmtRatio(s.vsRaw?.[m.key]);
      return `${fmt(value, m.key === "large" ? 0 : m.key === "broadcast" ? 2 : 1)}${rel}`;
    });
    const check = s.verified.ok ? `✓ ${s.verified.echoes.toLocaleString("en-US")}` : `✗ ${s.failures.join("; ")}`;
    lines.push(`| ${name} | ${cells.join(" | ")} | ${check} |`);
  }
  for (const [name, reason] of Object.entries(skipped)) {
    lines.push(`| ${name} | ${METRICS.map(() => "–").join(" | ")} | ${reason} |`);
  }
  return lines;
}

/** The targets of issue #4 with what this run measured. */
function targetsTable(summary) {
  const lines = ["| runtime | target | measured | met |", "|---|---|---:|---|"];
  for (const row of targetRows(summary)) {
    lines.push(`| ${row.runtime} | ${row.target} | ${row.measured} | ${row.met} |`);
  }
  return lines;
}

const README = path.join(ROOT, "docs", "performance.md");
export const README_START = "<!-- bench:start (written by `node bench/run.mjs --readme`) -->";
export const README_END = "<!-- bench:end -->";

/** The README's block for `report`: a line on the run, the results table and the targets table. */
export function readmeBlock(report) {
  const { machine, repeats, wallSeconds } = report;
  return [
    README_START,
    "",
    `The run below: ${machine.date.slice(0, 10)}, ${repeats} interleaved rounds in ${
      Math.round(wallSeconds / 60)
    } minutes, ` +
    `${machine.cores}-core ${machine.cpu}, Node ${machine.node.replace(/^v/, "")}, Bun ${machine.bun}, Deno ${
      machine.deno?.split(" ")[1]
    }, workerd ${machine.workerd} under \`wrangler dev\` ${machine.wrangler}. Figures are medians over the rounds; in parentheses, the ratio to the raw server of the same runtime ` +
    "(taken per round, then the median), above 1.00× is better; for idle memory, the difference to raw.",
    "",
    ...resultsTable(report),
    "",
    "Targets (issue #4), as measured in the same run:",
    "",
    ...targetsTable(report.summary),
    "",
    README_END,
  ].join("\n");
}

/** Replaces the README's block between the bench markers with this run's tables. */
function updateReadme(report, tools) {
  const text = readFileSync(README, "utf8");
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_START} … ${README_END} block`);
  writeFileSync(README, text.slice(0, start) + readmeBlock(report) + text.slice(end + README_END.length));
  // The README is checked by `deno fmt --check` in `npm test`: align the new tables as it would.
  if (tools.deno) spawnSync(tools.deno, ["fmt", README], { cwd: ROOT, stdio: "ignore" });
}

function markdown(report) {
  const { machine, summary, names, mode, params, wallSeconds, repeats } = report;
  const lines = [];
  lines.push(`# edgesocket benchmark (${mode})`, "");
  lines.push(
    `${repeats} interleaved round(s); each figure is the median over the rounds. In parentheses: the ratio to the raw server of the same runtime, ` +
      "taken in each round and then the median over the rounds (so it need not equal the ratio of the medians beside it), " +
      "oriented so that above 1.00× is better (for latency: raw time ÷ this time). Idle memory shows the difference to raw per connection, taken the same way.",
    "",
  );
  lines.push(...resultsTable(report));
  lines.push("");
  lines.push("## Who was the limit (throughput scenario)", "");
  lines.push(
    "CPU used during the throughput window, in cores (median over rounds). The server is pinned to one core, the client to the other; " +
      "a server near 1.00 is the bottleneck, a client near 1.00 means the figure is a lower bound. 'others' is everything else on the machine (noise). " +
      "The last column divides the server's CPU time by the messages it echoed (in parentheses: against raw, paired by round, above 1.00× is cheaper).",
    "",
  );
  lines.push(
    "| server | server CPU | client CPU | others | server CPU µs per message |",
    "|---|---:|---:|---:|---:|",
  );
  for (const name of names) {
    const m = summary[name].medians;
    if (m.serverCpu === undefined) continue;
    const perMessage = `${m.cpuPerMessage.toFixed(2)}${fmtRatio(summary[name].vsRaw?.cpuPerMessage)}`;
    lines.push(
      `| ${name} | ${m.serverCpu.toFixed(2)} | ${m.clientCpu.toFixed(2)} | ${
        (m.otherCpu ?? 0).toFixed(2)
      } | ${perMessage} |`,
    );
  }
  lines.push("");
  lines.push("## edgesocket against the targets", "");
  lines.push(...targetsTable(summary));
  lines.push("", "## Broadcast", "", BROADCAST_NOTE, "");
  lines.push(
    "| server | subscribers | median ms | min ms | server CPU ms per broadcast | client CPU ms per broadcast |",
    "|---|---:|---:|---:|---:|---:|",
  );
  for (const name of names) {
    const runs = report.results[name].runs.map((run) => run.broadcast).filter((r) => r && !r.failed);
    if (runs.length === 0) continue;
    const m = (key) => median(runs.map((r) => r[key]));
    lines.push(
      `| ${name} | ${fmt(m("subscribers"))} | ${fmt(m("value"), 2)} | ${fmt(m("min"), 2)} | ${
        fmt(m("serverCpuMs"), 2)
      } | ${fmt(m("clientCpuMs"), 2)} |`,
    );
  }
  lines.push("");
  lines.push("## Scenarios", "");
  const p = params;
  const describe = {
    throughput: () =>
      `- throughput: ${p.throughput.connections} connections, ${p.throughput.inflight} text messages of ${p.throughput.size} B in flight each, ${p.throughput.duration} ms after ${p.throughput.warmup} ms warm-up.`,
    latency: () =>
      `- latency: one connection, sequential round trips of ${
        p.latency.size ?? 32
      } B text, up to ${p.latency.count} samples or ${p.latency.duration} ms after ${
        p.latency.warmup ?? 200
      } warm-up round trips (fewer leave the JIT compiling our code during the samples: Bun's p99 was 1.5× its steady value).`,
    large: () =>
      `- large: ${p.large.connections} connections, ${p.large.inflight} binary messages of ${
        p.large.size / 1024
      } KiB in flight each; MB/s echoed.`,
    churn: () =>
      `- churn: ${p.churn.connections} parallel loops of connect, one echo, close handshake; completed cycles per second over ${p.churn.duration} ms.`,
    broadcast: () =>
      `- broadcast: ${p.broadcast.count} subscribers (no runtime here needs fewer: the open-file limit is 20,000), ${p.broadcast.rounds} rounds ${p.broadcast.gap} ms apart; every subscriber must receive every message, byte for byte.`,
    idle: () =>
      `- idle: ${p.idle.count} connections that each echoed one message, opened in two halves; the server's RSS growth (whole process group) over the second half, per connection: ` +
      "what one more connection costs, without one-off costs that the first connections pay (the upgrade path's first JIT compilation, a heap growing to its working size). The JSON also has the average over all connections. " +
      `workerd gets at most ${WORKERD_IDLE_LIMIT}: under wrangler dev it holds several file descriptors per WebSocket and this machine's hard limit of 20,000 open files ends it near 5,000.`,
  };
  lines.push(
    ...Object.keys(p).map((scenario) => describe[scenario]()),
    "- Every echo is checked by the client: opcode, length and bytes; the count of echoes must equal the count sent. A server that fails a check shows ✗ and its figures are not used.",
    "",
  );
  lines.push("## Machine", "");
  for (const [key, value] of Object.entries(machine)) if (value !== undefined) lines.push(`- ${key}: ${value}`);
  lines.push(`- wall time of the run: ${Math.round(wallSeconds)} s`, "");
  return lines.join("\n");
}

function targetRows(summary) {
  const rows = [];
  const cell = (value, fmtValue, limit, ok) =>
    value === undefined
      ? { measured: "not measured", met: "–" }
      : { measured: fmtValue(value), met: ok(value, limit) ? "yes" : "**no**" };
  for (const runtime of RUNTIMES) {
    const name = `${runtime}-edgesocket`;
    const s = summary[name];
    if (!s) continue;
    const floor = runtime === "workerd" ? 0.9 : 0.95;
    const atLeast = (v, limit) => v >= limit;
    const x = (v) => `${v.toFixed(2)}×`;
    for (
      const [key, label] of [
        ["throughput", "throughput"],
        ["latency50", "latency p50"],
        ["latency99", "latency p99"],
      ]
    ) {
      rows.push({ runtime, target: `${label} ≥ ${floor}× raw`, ...cell(s.vsRaw?.[key], x, floor, atLeast) });
    }
    for (
      const [other, label] of [
        ["vsHono", "Hono's helper"],
        ["vsCrossws", "crossws"],
      ]
    ) {
      if (!s[other]) continue;
      rows.push({ runtime, target: `throughput ≥ 1.0× ${label}`, ...cell(s[other].throughput, x, 1, atLeast) });
      rows.push({ runtime, target: `latency p50 ≥ 1.0× ${label}`, ...cell(s[other].latency50, x, 1, atLeast) });
    }
    rows.push({
      runtime,
      target: "idle memory ≤ raw + 2 KiB per connection",
      ...cell(s.vsRaw?.idle, (v) => `${v >= 0 ? "+" : ""}${(v / 1024).toFixed(2)} KiB`, 2048, (v, limit) => v <= limit),
    });
  }
  const bunBroadcast = summary["bun-edgesocket"]?.vsRaw?.broadcast;
  rows.push({
    runtime: "bun",
    target: "broadcast ≥ 0.9× server.publish",
    ...(bunBroadcast === undefined
      ? { measured: "not measured", met: "–" }
      : { measured: `${bunBroadcast.toFixed(2)}×`, met: bunBroadcast >= 0.9 ? "yes" : "**no**" }),
  });
  return rows;
}

const KIND_COLORS = { raw: "#7f8c8d", edgesocket: "#e67e22", hono: "#3498db", crossws: "#9b59b6", tornado: "#27ae60" };

function escapeXml(text) {
  return String(text).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}

/** One panel per metric: a bar per server, its median, and its ratio to raw. */
function svg(report) {
  const { summary, names, mode, machine } = report;
  const shown = names.filter((name) => !summary[name].error);
  const width = 920;
  const labelWidth = 150;
  const barMax = 560;
  const rowHeight = 18;
  let y = 50;
  const parts = [];
  parts.push(
    `<text x="10" y="22" font-size="16" font-weight="bold">edgesocket benchmark (${
      escapeXml(mode)
    }) — medians; (×) = vs raw of the same runtime, above 1 is better</text>`,
    `<text x="10" y="40" font-size="11" fill="#555">${
      escapeXml(`${machine.cpu}, ${machine.cores} cores, ${machine.os}; ${machine.date}`)
    }</text>`,
  );
  for (const metric of METRICS) {
    const values = shown.map((name) => summary[name].medians[metric.key]).filter((v) => v !== undefined && v > 0);
    const max = Math.max(1, ...values);
    y += 24;
    parts.push(
      `<text x="10" y="${y}" font-size="14" font-weight="bold">${escapeXml(metric.label)}${
        metric.higher ? " (higher is better)" : " (lower is better)"
      }</text>`,
    );
    y += 8;
    for (const name of shown) {
      const s = summary[name];
      const value = s.medians[metric.key];
      const kind = name.split("-")[1];
      const barWidth = value && value > 0 ? Math.max(1, (value / max) * barMax) : 0;
      const rel = metric.key === "idle" ? fmtDelta(s.vsRaw?.idle) : fmtRatio(s.vsRaw?.[metric.key]);
      const text = s.verified.ok ? `${fmt(value, 1)}${rel}` : "✗ echo check failed";
      parts.push(
        `<text x="${labelWidth - 6}" y="${y + 13}" font-size="12" text-anchor="end">${escapeXml(name)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${barWidth.toFixed(1)}" height="${rowHeight - 5}" fill="${
          KIND_COLORS[kind] ?? "#444"
        }"/>`,
        `<text x="${labelWidth + barWidth + 6}" y="${y + 13}" font-size="11">${escapeXml(text)}</text>`,
      );
      y += rowHeight;
    }
  }
  y += 20;
  parts.push(`<text x="10" y="${y}" font-size="11" fill="#555">${escapeXml(BROADCAST_NOTE)}</text>`);
  y += 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${
    parts.join("\n")
  }\n</svg>\n`;
}

// --- main ---

/** `mode` with only the named scenarios (all of them when none are named). */
function withScenarios(mode, names) {
  if (!names) return mode;
  return { ...mode, scenarios: Object.fromEntries(names.map((name) => [name, mode.scenarios[name]])) };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mode = withScenarios(MODES[args.mode], args.scenarios);
  const started = Date.now();
  const tools = findTools();
  const requested = args.servers ?? mode.servers ?? DEFAULT_SERVERS;
  const skipped = {};
  const names = [];
  for (const name of requested) {
    const reason = missing(name, tools);
    if (reason) skipped[name] = reason;
    else names.push(name);
  }
  const repeats = args.repeats ?? mode.repeats;
  const logDir = path.join(ROOT, "bench", "results", "raw");
  mkdirSync(logDir, { recursive: true });
  mkdirSync(args.out, { recursive: true });
  const scratch = mkdtempSync(path.join(os.tmpdir(), "edgesocket-bench-"));
  if (names.some((name) => name.startsWith("node-"))) {
    // Node 20 cannot run TypeScript: compile the Node servers (and src/) into dist/.
    const build = spawnSync(tools.tsc, ["-p", path.join(ROOT, "bench", "tsconfig.json")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (build.status !== 0) throw new Error(`tsc failed:\n${build.stdout}${build.stderr}`);
  }
  const results = Object.fromEntries(names.map((name) => [name, { runs: [], rounds: [], error: undefined }]));
  const log = (line) => process.stderr.write(`${line}\n`);
  log(
    `bench: ${args.mode}, ${names.length} servers, ${repeats} round(s), client on ${tools.clientRuntime}${
      tools.taskset ? ", pinned" : ""
    }`,
  );
  try {
    for (let round = 0; round < repeats; round++) {
      for (const name of seededShuffle(names, round + 1)) {
        let server;
        try {
          server = await startServer(name, tools, scratch, logDir);
        } catch (error) {
          results[name].error = error.message;
          log(`  ${name}: ${error.message}`);
          continue;
        }
        const run = {};
        try {
          for (const [scenario, params] of Object.entries(mode.scenarios)) {
            if (scenario === "broadcast" && !BROADCAST_SERVERS.includes(name)) continue;
            const capped = scenario === "idle" && name.startsWith("workerd-")
              ? { ...params, count: Math.min(params.count, WORKERD_IDLE_LIMIT) }
              : params;
            run[scenario] = await runClient(scenario, server.port, capped, tools, groupPids(server.pgid));
          }
        } finally {
          await stopServer(server);
        }
        results[name].runs.push(run);
        results[name].rounds.push(round);
        const brief = Object.entries(run)
          .map(([scenario, r]) => `${scenario} ${r.failed ? `FAILED (${r.failed})` : fmt(r.value, 1)}`)
          .join(", ");
        log(`  round ${round + 1} ${name}: ${brief}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const summary = summarize(results, names);
  const report = {
    mode: args.mode,
    repeats,
    machine: machineInfo(tools),
    params: mode.scenarios,
    names,
    skipped,
    summary,
    broadcast: { servers: BROADCAST_SERVERS, note: BROADCAST_NOTE },
    results,
    wallSeconds: (Date.now() - started) / 1000,
  };
  const md = markdown(report);
  writeFileSync(path.join(args.out, "latest.md"), md);
  writeFileSync(path.join(args.out, "latest.svg"), svg(report));
  writeFileSync(path.join(args.out, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  if (args.readme) updateReadme(report, tools);
  process.stdout.write(md);
  const broken = names.filter((name) => !summary[name].verified.ok);
  if (broken.length > 0) log(`bench: echo checks failed or servers did not start: ${broken.join(", ")}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(error?.stack ?? error);
    process.exit(1);
  });
}
