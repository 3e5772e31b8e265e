/**
 * Readings of a server's processes from Linux's /proc: CPU time (`stat`: utime + stime) and resident memory.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";

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

/** CPU seconds used so far by `pids` (user + system, all threads). */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
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
