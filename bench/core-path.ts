#!/usr/bin/env node
/**
 * The core's message path alone, without a runtime socket: 32 B texts echoed by the bench's `Echo` handler through a
 * plain route's `Connection` or a resume route's `SessionLink` (hello first; an acknowledgement from the client after
 * every 64 messages, confirming all but the last 64 and every fourth one all, so that the replay buffer, holding at
 * most 128, empties every 256 messages, as the real Bun server's did under the bench's load), on a transport that
 * does nothing. What a route's own JavaScript costs per message, apart from the runtime's socket and the machine's
 * noise.
 *
 *   bun bench/core-path.ts <plain|resume> [messages]       nanoseconds per message (after 200,000 to warm up)
 *   node dist/bench/core-path.js --instructions             instructions per message on Bun's JIT, both routes
 *
 * `--instructions` runs Bun under valgrind (cachegrind, background JIT off) with two message counts and divides the
 * difference of the instructions by the difference of the messages: start-up and JIT compilation cancel out, and
 * the figure repeats to a few instructions where timings on this shared machine vary by a third.
 * @module
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../test/helpers/runtimes.ts";
import { Connection, type Transport } from "../src/core/connection.ts";
import { resolveOptions } from "../src/core/options.ts";
import { Runtime } from "../src/core/runtime.ts";
import { SessionLink } from "../src/core/session.ts";
import { Echo } from "./servers/edgesocket-app.ts";

/** The routes measured. */
export type Route = "plain" | "resume";

const WARMUP = 200_000;
/** Every this many messages the client confirms all, emptying the replay buffer. */
const EMPTY_EVERY = 256;
const ACK_EVERY = 64;
const MESSAGE = "edgesocket-bench-edgesocket-benc";

/** A runtime socket that does nothing, with a send buffer that is always empty. */
class NullTransport implements Transport {
  sent = 0;
  send(): void {
    this.sent++;
  }
  get bufferedAmount(): number {
    return 0;
  }
  close(): void {}
  ping(): void {}
}

/** A function that passes messages `from` to `to` (exclusive) through `route`'s path. */
function routePath(route: Route): (from: number, to: number) => void {
  const runtime = new Runtime({ upgrade: () => new Response(null) });
  const transport = new NullTransport();
  if (route === "plain") {
    const connection = new Connection(new Echo(), resolveOptions({}), undefined, runtime);
    connection.open(transport);
    return (from, to) => {
      for (let i = from; i < to; i++) connection.receive(MESSAGE);
    };
  }
  const link = new SessionLink(new Connection(new Echo(), resolveOptions({ resume: true }), undefined, runtime), "/");
  link.open(transport);
  link.receive("\0h0 ");
  return (from, to) => {
    for (let i = from; i < to; i++) {
      link.receive(MESSAGE);
      // An acknowledgement after every 64 messages: all but the last 64, every fourth all (the buffer empties).
      if (i % ACK_EVERY === 0) link.receive(`\0a${i % EMPTY_EVERY === 0 ? i : i - ACK_EVERY}`);
    }
  };
}

/** Nanoseconds per message of `route`, over `messages` after the warm-up. */
export function timeRoute(route: Route, messages: number): number {
  const run = routePath(route);
  run(1, WARMUP);
  const start = performance.now();
  run(WARMUP, WARMUP + messages);
  return ((performance.now() - start) * 1e6) / messages;
}

/** Instructions Bun executes for `route` with `messages`, under valgrind. */
function instructions(bun: string, route: Route, messages: number): number {
  const result = spawnSync("valgrind", [
    "--tool=cachegrind",
    "--cache-sim=no",
    "--cachegrind-out-file=/dev/null",
    "--smc-check=all",
    bun,
    path.join(ROOT, "bench", "core-path.ts"),
    route,
    String(messages),
  ], { encoding: "utf8", env: { ...process.env, BUN_JSC_useConcurrentJIT: "0" }, timeout: 600_000 });
  const refs = /I\s+refs:\s+([\d,]+)/.exec(result.stderr)?.[1];
  if (!refs) throw new Error(`valgrind gave no instruction count: ${result.error ?? result.stderr.slice(-500)}`);
  return Number(refs.replaceAll(",", ""));
}

/** Instructions per message of each route on Bun: the difference between 300,000 and 1,500,000 messages. */
export function instructionsPerMessage(bun: string): Record<Route, number> {
  const [few, many] = [300_000, 1_500_000];
  const perMessage = (route: Route) => (instructions(bun, route, many) - instructions(bun, route, few)) / (many - few);
  return { plain: perMessage("plain"), resume: perMessage("resume") };
}

function main(argv: string[]): void {
  if (argv[0] === "--instructions") {
    const counts = instructionsPerMessage(path.join(ROOT, "node_modules", ".bin", "bun"));
    console.log(
      `instructions per message on Bun: plain ${Math.round(counts.plain)}, resume ${Math.round(counts.resume)}`,
    );
    return;
  }
  const route = argv[0] as Route;
  if (route !== "plain" && route !== "resume") {
    throw new Error("usage: core-path <plain|resume> [messages] | --instructions");
  }
  const messages = Number(argv[1] ?? 1_000_000);
  console.error(`${route}: ${timeRoute(route, messages).toFixed(1)} ns per message`);
  process.exit(0); // the heartbeat's interval would keep the process alive
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}
