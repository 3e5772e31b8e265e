/**
 * Real Redis for the tests: one `redis-server`, or a Redis Cluster of six (three masters, three
 * replicas) created with `redis-cli --cluster create`. Debian's `redis-server` package (installed by
 * .ci/run) brings both programs. Each server runs in its own temp directory on a free port and is
 * stopped by PID.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, isFree } from "./runtimes.ts";

const run = promisify(execFile);

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server abruptly (SIGKILL), as a crash would. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  remove(): Promise<void>;
}

/** One `redis-server` on a free port, in its own temp directory. `args` are added to its command line. */
export async function startRedis(args: string[] = [], port?: number): Promise<RunningRedis> {
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), `edgesocket-redis-${port}-`));
  let child: ChildProcess | undefined;
  const redis: RunningRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const options = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
      child = spawn("redis-server", [...options, ...args], { cwd: dir, stdio: "ignore" });
      await waitForPort(port, child);
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((done) => running.once("exit", done));
      running.kill("SIGKILL");
      await exited;
    },
    async remove() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

/** Runs `redis-cli -p port ...args` and returns what it printed. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
  return stdout.trim();
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within 10 s`);
}

export interface RunningCluster {
  /** The six nodes, masters first as `redis-cli --cluster create` assigned them. */
  readonly nodes: RunningRedis[];
  /** `host:port,host:port,…` of every node, as `REDIS_CLUSTER` takes it. */
  readonly addresses: string;
  /** The node that owns `slot` now (a master), as a live node sees it. */
  ownerOf(slot: number): Promise<RunningRedis>;
  /** The masters now, as a live node sees them. */
  masters(): Promise<RunningRedis[]>;
  /** The slot of `key` (`CLUSTER KEYSLOT`). */
  keyslot(key: string): Promise<number>;
  /** Resolves once every live node reports `cluster_state:ok` and agrees on one owner per slot. */
  healthy(): Promise<void>;
  /** Stops every node and deletes their directories. */
  remove(): Promise<void>;
}

/**
 * A Redis Cluster of three masters and three replicas on free local ports. `nodeTimeout` (ms) is
 * how long the others wait before they fail a silent master over to its replica.
 */
export async function startRedisCluster({ nodeTimeout = 1000 } = {}): Promise<RunningCluster> {
  const args = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];
  // A replica may take over however long ago it last heard from its master (a fresh cluster's has just synced).
  args.push("--cluster-node-timeout", String(nodeTimeout), "--cluster-replica-validity-factor", "0");
  const ports = await clusterPorts(6);
  const started = await Promise.allSettled(ports.map((port) => startRedis(args, port)));
  const nodes = started.flatMap((result) => result.status === "fulfilled" ? [result.value] : []);
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  try {
    if (nodes.length < ports.length) throw new Error("a cluster node did not start");
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "1", "--cluster-yes"]);
  } catch (error) {
    await Promise.all(nodes.map((node) => node.remove()));
    throw error;
  }
  const live = async () => {
    for (const node of nodes) {
      if (await redisCli(node.port, "PING").catch(() => "") === "PONG") return node;
    }
    throw new Error("no cluster node answers");
  };
  const cluster: RunningCluster = {
    nodes,
    addresses: addresses.join(","),
    async ownerOf(slot) {
      const port = await slotOwner((await live()).port, slot);
      return nodes.find((node) => node.port === port)!;
    },
    async masters() {
      const ports = (await masters((await live()).port)).map((m) => m.port);
      return nodes.filter((node) => ports.includes(node.port));
    },
    async keyslot(key) {
      return Number(await redisCli((await live()).port, "CLUSTER", "KEYSLOT", key));
    },
    async healthy() {
      const deadline = Date.now() + 30_000;
      while (!(await isHealthy(nodes))) {
        if (Date.now() > deadline) throw new Error("the cluster did not reach cluster_state:ok within 30 s");
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async remove() {
      await Promise.all(nodes.map((node) => node.remove()));
    },
  };
  await cluster.healthy().catch(async (error) => {
    await cluster.remove();
    throw error;
  });
  return cluster;
}

/** `count` free ports whose cluster bus ports (port + 10000) are free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort();
    if (ports.has(port) || ports.has(port + 10_000) || ports.has(port - 10_000)) continue;
    if (await isFree(port + 10_000)) ports.add(port);
  }
  return [...ports];
}

async function isHealthy(nodes: RunningRedis[]): Promise<boolean> {
  const reports = await Promise.all(nodes.map((node) => redisCli(node.port, "CLUSTER", "INFO").catch(() => "")));
  const answering = nodes.filter((_, i) => reports[i] !== "");
  if (!reports.every((report) => report === "" || report.includes("cluster_state:ok"))) return false;
  const replication = await Promise.all(answering.map((node) => redisCli(node.port, "INFO", "replication")));
  if (replication.some((info) => info.includes("role:slave") && !info.includes("master_link_status:up"))) return false;
  // Every answering node sees the same three masters, all of them answering: a failover has reached them all.
  const views = await Promise.all(answering.map((node) => masters(node.port).catch(() => [])));
  const distinct = new Set(views.map((view) => view.map((m) => m.port).sort().join(",")));
  const up = new Set(answering.map((node) => node.port));
  return distinct.size === 1 && views[0]!.length === 3 && views[0]!.every((m) => up.has(m.port));
}

interface Master {
  port: number;
  slots: [number, number][];
}

/** The live masters and their slot ranges, as the node on `port` sees them (`CLUSTER NODES`). */
async function masters(port: number): Promise<Master[]> {
  const lines = (await redisCli(port, "CLUSTER", "NODES")).split("\n");
  // `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges…>`
  return lines.map((line) => line.split(" ")).filter(([, , flags]) => {
    const set = flags!.split(",");
    return set.includes("master") && !set.includes("fail") && !set.includes("fail?");
  }).map(([, address, , , , , , , ...ranges]) => ({
    port: Number(address!.split("@")[0]!.split(":")[1]),
    slots: ranges.filter((r) => !r.startsWith("[")).map((r) => {
      const [from, to] = r.split("-").map(Number);
      return [from!, to ?? from!] as [number, number];
    }),
  }));
}

/** The port of the master that owns `slot`, as the node on `port` sees it. */
async function slotOwner(port: number, slot: number): Promise<number> {
  const owner = (await masters(port)).find((m) => m.slots.some(([from, to]) => from <= slot && slot <= to));
  if (!owner) throw new Error(`no owner of slot ${slot} in CLUSTER NODES on ${port}`);
  return owner.port;
}
