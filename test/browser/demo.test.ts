/**
 * The demo page in a real headless Chromium (Debian's `chromium`, installed by .ci/run), against the demo
 * server of each runtime: the page's own `new WebSocket(...)` connects, sends, shows the echo, and shows the
 * closed state once the server goes away; the chat page delivers within a room only. Screenshots per runtime land
 * in test-results/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryOf, ROOT, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(ROOT, "test-results/screenshots");
const runtimes: RuntimeName[] = ["deno", "bun", "workerd", "node"];

let profile: string;
let browser: BrowserContext;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), "edgesocket-chromium-"));
  // A persistent context is how Playwright takes a fresh --user-data-dir.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 800, height: 600 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe.each(runtimes)("the demo pages in Chromium, served by %s", (runtime) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(runtime, entryOf(runtime, "demo"), { readyPath: "/" });
  });
  afterAll(() => server?.stop());

  test("/chat: what one page sends reaches every page in its room, and no page in another room", async () => {
    const joinRoom = async (room: string, name: string) => {
      const page = await browser.newPage();
      await page.goto(`${server.httpURL}/chat`);
      await page.getByLabel("Room").fill(room);
      await page.getByLabel("Name").fill(name);
      await page.getByRole("button", { name: "Join" }).click();
      await expect.poll(() => page.getByRole("status").textContent(), { timeout: 15_000 }).toBe(`in room ${room}`);
      return page;
    };
    const pages: Page[] = [];
    try {
      const [ann, bob, cat] = [
        await joinRoom("lobby", "ann"),
        await joinRoom("lobby", "bob"),
        await joinRoom("other", "cat"),
      ];
      pages.push(ann, bob, cat);
      await ann.getByLabel("Message").fill("hello, lobby");
      await ann.getByRole("button", { name: "Send" }).click();
      for (const page of [ann, bob]) {
        await expect.poll(() => page.locator("#log li:not(.system)").allTextContents(), { timeout: 15_000 })
          .toEqual(["ann: hello, lobby"]);
      }
      await bob.screenshot({ path: join(SCREENSHOTS, `${runtime}-chat.png`) });
      expect(await cat.locator("#log li:not(.system)").allTextContents()).toEqual([]);
    } finally {
      for (const page of pages) await page.close();
    }
  });

  test("/: connects, sends, shows the echo, then shows the closed state when the server goes away", async () => {
    let page: Page | undefined;
    try {
      page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${server.httpURL}/`);

      const status = page.getByRole("status");
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe("open");

      await page.getByLabel("Message").fill(`hello from Chromium on ${runtime}`);
      await page.getByRole("button", { name: "Send" }).click();
      const echoes = page.locator("#log li");
      await expect.poll(() => echoes.allTextContents(), { timeout: 15_000 }).toEqual([
        `hello from Chromium on ${runtime}`,
      ]);
      await page.screenshot({ path: join(SCREENSHOTS, `${runtime}.png`) });

      await server.stop();
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toMatch(/^closed \(\d+\)$/);
      expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
      await page.screenshot({ path: join(SCREENSHOTS, `${runtime}-closed.png`) });
      expect(errors).toEqual([]);
    } finally {
      await page?.close();
    }
  });
});
