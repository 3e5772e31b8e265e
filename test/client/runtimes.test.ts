/**
 * The reconnect scenario (test/client/scenario.ts) with edgesocket/client on Node (with `ws`), Deno and Bun,
 * against a real demo server (Node) that the test kills and restarts on the same port: the client reconnects by
 * itself and what it sent while the server was down arrives once, in order.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { entryOf, ROOT, type RunningServer, startServer } from "../helpers/runtimes.ts";
import { playReconnectScenario, type Report } from "./scenario.ts";

const BIN = join(ROOT, "node_modules/.bin");
const FIXTURE = "test/client/fixtures/reconnect.ts";
const WAIT = { timeout: 30_000, interval: 50 };

/** A client playing the scenario: in this process (Node) or in a spawned runtime. */
interface ScenarioClient {
  readonly reports: Report[];
  stop(): void;
}

const clients: Record<string, (url: string) => ScenarioClient> = {
  "Node (ws)": (url) => {
    const reports: Report[] = [];
    const socket = playReconnectScenario(url, (report) => reports.push(report), WebSocket);
    return { reports, stop: () => socket.readyState !== socket.CLOSED && socket.close() };
  },
  Deno: (url) => spawned(`${BIN}/deno`, ["run", "--allow-net", FIXTURE, url]),
  Bun: (url) => spawned(`${BIN}/bun`, ["run", FIXTURE, url]),
};

/** The fixture in another runtime, its JSON lines collected as they come. */
function spawned(file: string, args: string[]): ScenarioClient {
  const child: ChildProcess = spawn(file, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const reports: Report[] = [];
  let pending = "";
  let errors = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) if (line.trim()) reports.push(JSON.parse(line));
  });
  child.stderr!.on("data", (chunk) => (errors += chunk));
  child.once("exit", (code) => {
    if (code) reports.push({ event: "close", code: -1, willRetry: false }, { event: "message", data: errors });
  });
  return { reports, stop: () => child.exitCode === null && child.kill("SIGKILL") };
}

let server: RunningServer | undefined;
let client: ScenarioClient | undefined;

afterEach(async () => {
  client?.stop();
  await server?.stop();
});

describe.each(Object.keys(clients))("edgesocket/client on %s", (name) => {
  test("the server is killed and restarted on the same port: the client reconnects and sends what it queued, once, in order", async () => {
    const start = (port?: number) => startServer("node", entryOf("node", "demo"), { readyPath: "/", port });
    server = await start();
    const { reports } = (client = clients[name]!(`${server.wsURL}/websocketserver`));
    const messages = () => reports.flatMap((r) => (r.event === "message" ? [r.data] : []));

    await expect.poll(messages, WAIT).toEqual(["before"]);
    await server.stop();
    await expect.poll(() => reports.some((r) => r.event === "reconnecting"), WAIT).toBe(true);
    server = await start(server.port);

    await expect.poll(() => reports.at(-1), WAIT).toEqual({ event: "close", code: 1000, willRetry: false });
    expect(messages()).toEqual(["before", "offline 1", "offline 2", "offline 3"]);
    expect(reports.filter((r) => r.event === "open")).toHaveLength(2);
    const drop = reports.find((r) => r.event === "close")!;
    expect(drop).toMatchObject({ code: 1006, willRetry: true });
    for (const r of reports) if (r.event === "reconnecting") expect(r.delay).toBeLessThanOrEqual(500);
  });
});
