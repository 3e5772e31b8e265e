/**
 * `durableObject(app, { autoResponse })` on real workerd: a changed request/response pair is answered by the
 * platform in place of the default ping/pong, and `null` turns the automatic answer off. (The default, "ping" →
 * "pong", and the rest of the adapter run in the conformance and rooms suites.)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openClient } from "../helpers/client.ts";
import { type RunningServer, startServer, WORKERS_COMPATIBILITY_DATE } from "../helpers/runtimes.ts";

/** The fixture's bindings, in a folder of its own (wrangler keeps its state beside its configuration). */
function wranglerConfig(folder: string): string {
  const file = join(folder, "wrangler.toml");
  writeFileSync(
    file,
    `name = "autoresponse"
compatibility_date = "${WORKERS_COMPATIBILITY_DATE}"

[[durable_objects.bindings]]
name = "CUSTOM"
class_name = "CustomReply"

[[durable_objects.bindings]]
name = "OFF"
class_name = "NoReply"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["CustomReply", "NoReply"]
`,
  );
  return file;
}

describe("durableObject autoResponse on workerd", () => {
  let folder: string;
  let server: RunningServer;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "edgesocket-autoresponse-"));
    server = await startServer("workerd", "test/fixtures/worker-autoresponse.ts", {
      wranglerConfig: wranglerConfig(folder),
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test("a changed pair is answered by the platform, and the default ping reaches the handler", async () => {
    const client = await openClient(`${server.wsURL}/custom/a`);
    client.ws.send("hb");
    expect(await client.message()).toBe("ack");
    client.ws.send("ping");
    expect(await client.message()).toBe("handler: ping");
    client.ws.close();
  });

  test("null turns the automatic answer off: ping reaches the handler", async () => {
    const client = await openClient(`${server.wsURL}/off/a`);
    client.ws.send("ping");
    expect(await client.message()).toBe("handler: ping");
    client.ws.send("hb");
    expect(await client.message()).toBe("handler: hb");
    client.ws.close();
  });
});
