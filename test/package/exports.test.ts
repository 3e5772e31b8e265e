/**
 * The public surface, name by name, of every entry point of the npm package and of the JSR package: it grows
 * only on purpose. A change here is an API change: update the README's API table and the CHANGELOG with it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { run } from "../checks/run.ts";
import { ROOT } from "../helpers/runtimes.ts";

/** What an application author uses. */
const ROOT_API = [
  "Backplane",
  "CloseCode",
  "DEFAULT_LIMITS",
  "DEFAULT_RESUME",
  "FetchApp",
  "HandlerClass",
  "InvalidMessageError",
  "Limits",
  "ListenOptions",
  "Message",
  "NOT_FOUND_REASON",
  "PublishOptions",
  "RATE_EXCEEDED_REASON",
  "REPLAY_FULL_REASON",
  "ReadyState",
  "ResumeLimits",
  "ResumeOptions",
  "SESSION_EXPIRED_REASON",
  "SESSION_MOVE_CLOSE",
  "SHUTDOWN_CLOSE",
  "SLOW_CONSUMER_REASON",
  "SendData",
  "SessionEngine",
  "Shutdown",
  "ShutdownOptions",
  "StandardSchemaV1",
  "WebSocketClosedError",
  "WebSocketHandler",
  "WebSocketOptions",
  "parseMessage",
  "publish",
  "subscribers",
  "subscribersEverywhere",
  "websocket",
];

/** Every entry's exported names, by the source module behind it. */
const EXPECTED: Record<string, string[]> = {
  "src/index.ts": ROOT_API,
  "mod.ts": [...ROOT_API, "serve"],
  "src/adapter.ts": [
    "CONNECTION",
    "CloseListener",
    "Connection",
    "ConnectionRegistry",
    "DEFAULT_LISTEN",
    "HEARTBEAT_SLOT",
    "Heartbeat",
    "MemoryTopics",
    "MovedSession",
    "NO_PUBSUB",
    "PubSub",
    "PubSubOptions",
    "RESUME_PROTOCOL",
    "RUNTIME",
    "Runtime",
    "RuntimeEnv",
    "RuntimeOptions",
    "SavedConnection",
    "SavedSession",
    "Session",
    "SessionEngine",
    "SessionHook",
    "SessionJournal",
    "SessionLink",
    "SessionPhase",
    "SessionStore",
    "SocketEvents",
    "TopicEngine",
    "Transport",
    "Watched",
    "resolveOptions",
    "runtimeOf",
  ],
  "src/adapters/deno.ts": ["FetchApp", "ListenOptions", "ServeOptions", "serve"],
  "src/adapters/bun.ts": ["FetchApp", "ListenOptions", "ServeOptions", "serve"],
  "src/adapters/node.ts": ["FetchApp", "ListenOptions", "ServeOptions", "serve"],
  "src/adapters/cloudflare.ts": ["FetchApp", "Worker", "worker"],
  "src/adapters/cloudflare-durable.ts": [
    "DurableObjectClass",
    "DurableObjectOptions",
    "DurableObjectState",
    "FetchApp",
    "durableObject",
    "toDurableObject",
  ],
  "src/backplane/redis.ts": [
    "RedisBackplaneOptions",
    "RedisSessionsOptions",
    "redisBackplane",
    "redisBackplaneFromEnv",
    "redisSessions",
  ],
  "src/client/index.ts": [
    "BackoffOptions",
    "CloseInfo",
    "EdgeSocket",
    "EdgeSocketCloseEvent",
    "EdgeSocketErrorEvent",
    "EdgeSocketEventMap",
    "EdgeSocketOpenEvent",
    "EdgeSocketOptions",
    "InvalidMessageEvent",
    "MessageSchema",
    "Provider",
    "ReconnectingEvent",
    "SchemaIssue",
    "SchemaResult",
    "SendData",
    "WebSocketConstructor",
    "WebSocketLike",
    "defaultShouldReconnect",
    "retryDelay",
  ],
  "src/testing.ts": [
    "CloseInfo",
    "ConnectOptions",
    "FetchApp",
    "HandshakeRefusedError",
    "MountOptions",
    "TestClient",
    "TestServer",
    "TestServerOptions",
    "connect",
    "testServer",
  ],
};

/** The source module behind a `dist/` file of package.json's exports. */
function sourceOf(distPath: string): string {
  return distPath.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts");
}

async function exportedNames(module: string): Promise<string[]> {
  const result = await run("deno", ["doc", "--json", module]);
  expect(result.code).toBe(0);
  const doc = JSON.parse(result.stdout) as { nodes: Record<string, { symbols: { name: string }[] }> };
  const symbols = Object.values(doc.nodes).flatMap((node) => node.symbols.map((symbol) => symbol.name));
  return [...new Set(symbols)].sort();
}

const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const denoManifest = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));

const npmEntries: [string, string][] = Object.entries(manifest.exports as Record<string, { default?: string }>)
  .filter(([, target]) => target.default)
  .map(([entry, target]) => [entry, sourceOf(target.default!)]);
const jsrEntries: [string, string][] = Object.entries(denoManifest.exports as Record<string, string>)
  .map(([entry, module]) => [entry, module.replace(/^\.\//, "")]);

/** The names the README's table of the root entry lists (the first identifier of each backticked cell). */
function readmeRootTable(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("The root entry, `edgesocket`:"), readme.indexOf("`npm run docs`"));
  const names = [...table.matchAll(/^\| ([^|]+)\|/gm)].flatMap(([, cell]) =>
    [...cell!.matchAll(/`([A-Za-z_]\w*)/g)].map(([, name]) => name!)
  );
  return [...new Set(names)].sort();
}

describe("the public API, entry by entry", () => {
  test("the README's table of the root entry lists exactly its exports", () => {
    expect(readmeRootTable()).toEqual([...ROOT_API].sort());
  });

  test("every entry's module is listed here", () => {
    const modules = [...npmEntries, ...jsrEntries].map(([, module]) => module);
    expect(modules.filter((module) => !(module in EXPECTED))).toEqual([]);
  });

  test.each(npmEntries)("npm %s (%s) exports exactly the listed names", async (_entry, module) => {
    expect(await exportedNames(module)).toEqual([...EXPECTED[module]!].sort());
  });

  test.each(jsrEntries)("JSR %s (%s) exports exactly the listed names", async (_entry, module) => {
    expect(await exportedNames(module)).toEqual([...EXPECTED[module]!].sort());
  });
});
