/**
 * The browser module: one ES module, generated from src/client/ and up to date, and within its size budget
 * (minified + gzip), beside partysocket's `ws` module measured the same way. The figures are written to test-results/client-size.json and
 * must match what docs/client.md says.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { expect, test } from "vitest";
import { browserModule } from "../../src/client/browser.ts";
import { ROOT } from "../helpers/runtimes.ts";

/** scripts/build-client.mjs, which writes src/client/browser.ts (plain JavaScript, imported untyped). */
const script: string = join(ROOT, "scripts/build-client.mjs");
const { bundle, ENTRY } = await import(script) as {
  bundle(entry: string, minify?: boolean): Promise<string>;
  ENTRY: string;
};

const gzipped = (source: string) => gzipSync(source, { level: 9 }).length;

test("src/client/browser.ts holds the current bundle of src/client/ (else run `npm run build:client`)", async () => {
  expect(browserModule).toBe(await bundle(ENTRY));
});

test("the browser module is one self-contained ES module that exports EdgeSocket", async () => {
  expect(browserModule).not.toMatch(/^\s*import\b|\bimport\s*\(|\brequire\(/m);
  const module = await import(`data:text/javascript,${encodeURIComponent(browserModule)}`);
  expect(Object.keys(module).sort()).toEqual([
    "EdgeSocket",
    "EdgeSocketCloseEvent",
    "EdgeSocketErrorEvent",
    "InvalidMessageEvent",
    "ReconnectingEvent",
    "defaultShouldReconnect",
    "retryDelay",
  ]);
});

/** The client's size budget, minified + gzip: partysocket's `ws` module (2743 B) plus what sessions that resume cost. */
const BUDGET = 3000;

test("minified + gzip, it stays within its budget; docs/client.md states its size and partysocket's", async () => {
  const ours = await bundle(ENTRY, true);
  const partysocket = await bundle(join(ROOT, "node_modules/partysocket/dist/ws.js"), true);
  const sizes = {
    edgesocket: { minified: ours.length, gzip: gzipped(ours) },
    partysocketWs: { minified: partysocket.length, gzip: gzipped(partysocket) },
  };
  mkdirSync(join(ROOT, "test-results"), { recursive: true });
  writeFileSync(join(ROOT, "test-results/client-size.json"), JSON.stringify(sizes, null, 2));
  expect(sizes.edgesocket.gzip).toBeLessThan(BUDGET);
  const docs = readFileSync(join(ROOT, "docs/client.md"), "utf8");
  expect(docs).toContain(`edgesocket/client: ${sizes.edgesocket.minified} B minified, ${sizes.edgesocket.gzip} B gzip`);
  expect(docs).toContain(
    `partysocket/ws: ${sizes.partysocketWs.minified} B minified, ${sizes.partysocketWs.gzip} B gzip`,
  );
});
