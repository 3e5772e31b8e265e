/**
 * The fan-out report as Markdown: one table of every system, one of issue 14's targets.
 * @module
 */
import { type FanoutReport, type FanoutRow, labelOf } from "./fanout.ts";

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

function checkedText(row: FanoutRow): string {
  if (row.errors.length > 0) return `failed: ${row.errors[0]!.split("\n")[0]}`;
  if (row.checked) return "all in order";
  const missing = row.runs.reduce((sum, run) => sum + run.missing, 0);
  const wrong = row.runs.reduce((sum, run) => sum + run.wrong, 0);
  return `${missing} missing, ${wrong} wrong`;
}

function rowLine(row: FanoutRow, socketIoRate: number): string {
  return `| ${labelOf(row.system)} | ${Math.round(row.deliveriesPerSecond).toLocaleString("en-US")} | ${
    fixed(row.deliveriesPerSecond / socketIoRate, 2)
  }× | ${fixed(row.saturatedP99Ms, 0)} | ${fixed(row.p50Ms, 2)} | ${fixed(row.p99Ms, 2)} | ${
    fixed(row.serverMicrosPerDelivery, 1)
  } | ${fixed(row.serverCoreBusy * 100, 0)}% | ${fixed(row.clientCpu * 100, 0)}% | ${checkedText(row)} |`;
}

/** The results table, the targets table, and the settings they were measured with. */
export function fanoutMarkdown(report: FanoutReport): string {
  const socketIoRate = report.rows.find((row) => row.system.kind === "socketio")?.deliveriesPerSecond ?? NaN;
  const { settings, machine } = report;
  const lines = [
    `Fan-out, ${report.mode} mode, ${report.date}: ${settings.subscribers} subscribers in ${settings.rooms} rooms over ` +
    `two server processes, two publishers per room (one on each process) with ${settings.inflight} publications ` +
    `in flight each (saturation), then ${settings.rate} publications/s in all (${
      settings.rate * settings.subscribers / settings.rooms
    } deliveries/s, fixed rate); each phase ${settings.warmupMs / 1000} s warm-up, ${
      settings.measureMs / 1000
    } s measured, ` +
    `median of ${settings.rounds} round(s). ${settings.pinning}. ${machine.cores} × ${machine.cpu}, ` +
    `Node ${machine.node}, Bun ${machine.bun}, ${machine.deno}; load average at the end ${machine.loadAverage}.`,
    "",
    "| system (runtime) | deliveries/s (saturation) | ÷ Socket.IO median | p99 ms (saturation) | p50 ms (fixed rate) | " +
    "p99 ms (fixed rate) | server CPU µs/delivery | server core busy | client core busy | deliveries checked |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...report.rows.map((row) => rowLine(row, socketIoRate)),
    "",
    "Targets of issue 14; each ratio to Socket.IO is taken per round, then the median over the rounds:",
    "",
    "| edgesocket on | ≥ 1.5× Socket.IO's deliveries/s | p99 below Socket.IO's (fixed rate) | deliveries per server CPU-second |",
    "| --- | --- | --- | --- |",
    ...report.targets.map((target) =>
      `| ${target.runtime} | ${target.throughputMet ? "met" : "missed"} (${fixed(target.ratio, 2)}×) | ${
        target.p99Met ? "met" : "missed"
      } (${fixed(target.p99Ratio, 2)}×) | ${fixed(target.cpuRatio, 2)}× |`
    ),
  ];
  return `${lines.join("\n")}\n`;
}
