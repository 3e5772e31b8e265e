// The fan-out scenario: two server processes of one runtime behind one Redis, 2,000 members over 100
// rooms on both, publishers on both; deliveries per second and publish-to-deliver p50/p99, every
// delivery checked. Entry: `runFanout(options)`; from the command line (after `npm run build`):
//
//     node bench/fanout/run.mjs [--seconds 5] [--repeats 3] [--servers edgesocket-node,socketio-node,...]
//
// Each server is started twice (two processes, PORT and REDIS_URL set) and stopped by PID.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { drive } from "./client.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = resolve(ROOT, "node_modules/.bin");

/** Every server of the scenario: its command and the protocol its clients speak. */
export const FANOUT_SERVERS = {
  "edgesocket-node": { command: [process.execPath, "bench/fanout/edgesocket-node.mjs"], protocol: "plain" },
  "edgesocket-bun": { command: [`${BIN}/bun`, "bench/fanout/edgesocket-bun.ts"], protocol: "plain" },
  "edgesocket-deno": {
    command: [`${BIN}/deno`, "run", "--allow-net", "--allow-env", "--allow-read", "bench/fanout/edgesocket-deno.ts"],
    protocol: "plain",
  },
  "socketio-node": { command: [process.execPath, "bench/fanout/socketio-node.mjs"], protocol: "socketio" },
  "crossws-bun": { command: [`${BIN}/bun`, "bench/fanout/crossws-bun.ts"], protocol: "plain" },
};

/**
 * Runs the scenario `repeats` times for each of `servers` (names of {@link FANOUT_SERVERS}), in
 * alternation (paired runs agree better on a shared machine); returns one row per server with the
 * median of each figure.
 */
export async function runFanout(
  { servers = Object.keys(FANOUT_SERVERS), seconds = 5, repeats = 3, rooms = 100, members = 20 } = {},
) {
  const runs = new Map(servers.map((name) => [name, []]));
  for (let round = 0; round < repeats; round++) {
    for (const name of servers) runs.get(name).push(await runOnce(name, { seconds, rooms, members }));
  }
  return servers.map((name) => {
    const list = runs.get(name);
    const median = (key) => list.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(list.length / 2)];
    const total = (key) => list.reduce((sum, r) => sum + r[key], 0);
    return {
      server: name,
      deliveriesPerSecond: median("deliveriesPerSecond"),
      p50: median("p50"),
      p99: median("p99"),
      serverCpuPerDelivery: median("serverCpuPerDelivery"),
      redisCpuPerDelivery: median("redisCpuPerDelivery"),
      missing: total("missing"),
      outOfOrder: total("outOfOrder"),
    };
  });
}

async function runOnce(name, { seconds, rooms, members }) {
  const redis = await startRedis();
  const processes = [];
  try {
    for (let i = 0; i < 2; i++) processes.push(await startServer(FANOUT_SERVERS[name].command, redis.url));
    const pids = processes.map((p) => p.child.pid);
    const cpu = { server: 0, redis: 0 };
    const sign = { start: -1, end: 1 };
    const measured = (phase) => {
      cpu.server += sign[phase] * cpuMs(pids);
      cpu.redis += sign[phase] * cpuMs([redis.child.pid]);
    };
    const ports = processes.map((p) => p.port);
    const result = await drive({ protocol: FANOUT_SERVERS[name].protocol, ports, rooms, members, seconds, measured });
    const deliveries = result.deliveriesPerSecond * result.elapsed;
    // CPU time per delivery during the measured seconds, in µs: steadier than deliveries/s on a shared machine.
    return {
      ...result,
      serverCpuPerDelivery: cpu.server * 1000 / deliveries,
      redisCpuPerDelivery: cpu.redis * 1000 / deliveries,
    };
  } finally {
    for (const p of processes) await stop(p.child);
    await stop(redis.child);
    rmSync(redis.dir, { recursive: true, force: true });
  }
}

/** CPU time (user + system) the processes `pids` used so far, in ms (`/proc/<pid>/stat`, 100 ticks/s). */
function cpuMs(pids) {
  return pids.reduce((sum, pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return sum + (Number(fields[11]) + Number(fields[12])) * 10;
  }, 0);
}

/** The results as a Markdown table. */
export function fanoutTable(results) {
  const rows = results.map((r) =>
    `| ${r.server} | ${Math.round(r.deliveriesPerSecond).toLocaleString("en")} | ${r.p50.toFixed(1)} ms | ` +
    `${r.p99.toFixed(1)} ms | ${r.serverCpuPerDelivery.toFixed(1)} µs | ${r.redisCpuPerDelivery.toFixed(1)} µs | ` +
    `${r.missing} | ${r.outOfOrder} |`
  );
  return [
    "| server (2 processes) | deliveries/s | p50 | p99 | server CPU per delivery | Redis CPU per delivery | missing | out of order |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "edgesocket-fanout-redis-"));
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ], { cwd: dir, stdio: "ignore" });
  await until(() =>
    spawnSync("redis-cli", ["-p", String(port), "PING"], { encoding: "utf8" }).stdout.trim() === "PONG"
  );
  return { url: `redis://127.0.0.1:${port}`, child, dir };
}

async function startServer([file, ...args], redisURL) {
  const port = await freePort();
  const child = spawn(file, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, PORT: String(port), REDIS_URL: redisURL },
  });
  await until(() =>
    new Promise((done) => {
      const socket = createServer().listen(port, "127.0.0.1");
      socket.once("listening", () => socket.close(() => done(false)));
      socket.once("error", () => done(true));
    })
  );
  return { port, child };
}

async function until(condition, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("fanout: a process did not start within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

function freePort() {
  return new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
  await exited;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const option = (name) => process.argv[process.argv.indexOf(`--${name}`) + 1];
  const results = await runFanout({
    servers: process.argv.includes("--servers") ? option("servers").split(",") : undefined,
    seconds: process.argv.includes("--seconds") ? Number(option("seconds")) : undefined,
    repeats: process.argv.includes("--repeats") ? Number(option("repeats")) : undefined,
  });
  console.log(fanoutTable(results));
}
