/**
 * Readings of a server's processes from Linux's /proc: CPU time (`stat`: utime + stime), page faults, resident
 * memory, and whether they listen on a port.
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command name: field 3 (state) is index 0. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // the process exited meanwhile
  }
}

/**
 * Every process in process group `pgid` (a server and, for workerd, wrangler and workerd);
 * `live`: without zombies (this container's init may never reap a killed server's children).
 */
export function groupPids(pgid: number, { live = false } = {}): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields && Number(fields[2]) === pgid && !(live && fields[0] === "Z")) pids.push(Number(entry));
  }
  return pids;
}

/** Indexes in {@link statFields} of proc(5)'s fields 10 (minflt), 14 (utime) and 15 (stime). */
const MINFLT = 7;
const UTIME = 11;
const STIME = 12;

/** The sum over `pids` of their /proc/<pid>/stat fields at `indexes` (a process that exited counts 0). */
function sumOfStat(pids: readonly number[], indexes: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    if (fields) { for (const index of indexes) sum += Number(fields[index]); }
  }
  return sum;
}

/** CPU seconds used so far by `pids` (user + system, all threads). */
export function cpuSeconds(pids: readonly number[]): number {
  return sumOfStat(pids, [UTIME, STIME]) / TICKS_PER_SECOND;
}

/**
 * Minor page faults so far of `pids` (all threads): each a page the process touched for the first time since it was
 * mapped, for example memory its allocator gave back to the kernel and took again.
 */
export function pageFaults(pids: readonly number[]): number {
  return sumOfStat(pids, [MINFLT]);
}

/** CPU seconds used so far by every process on the machine (all cores). */
export function machineCpuSeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + (fields[4] ?? 0);
  return (fields.reduce((a, b) => a + b, 0) - idle) / TICKS_PER_SECOND;
}

/** Resident memory of each of `pids` in bytes, keyed `pid command`. */
export function rssByProcess(pids: readonly number[]): Record<string, number> {
  const rss: Record<string, number> = {};
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

/**
 * Whether a process of process group `pgid` listens on TCP `port` (Linux's /proc; true where there is none to read):
 * the socket's inode in /proc/net/tcp, among the group's open files.
 */
export function listensOn(pgid: number, port: number): boolean {
  const inodes = listeningInodes(port);
  if (inodes === undefined) return true;
  return groupPids(pgid).some((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
        return target !== undefined && inodes.has(target);
      });
    } catch {
      return false; // exited meanwhile
    }
  });
}

/** `socket:[inode]` of each listening TCP socket on `port`, or undefined without /proc/net/tcp. */
function listeningInodes(port: number): Set<string> | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = new Set<string>();
  try {
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields[1]?.endsWith(hexPort) && fields[3] === "0A") inodes.add(`socket:[${fields[9]}]`);
      }
    }
  } catch {
    return undefined;
  }
  return inodes;
}

function safeReadlink(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}
