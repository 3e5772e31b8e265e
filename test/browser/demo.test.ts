/**
 * The demo page in a real headless Chromium (Debian's `chromium`, installed by .ci/run), against the demo
 * server of each runtime: the page's `EdgeSocket` (edgesocket/client, served by the demo) connects, sends, shows the
 * echo, and shows that it is reconnecting once the server goes away; the chat page delivers within a room only.
 * The reconnection itself: test/browser/client.test.ts. Screenshots per runtime land
 * in test-results/screenshots/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Chromium, launchChromium } from "../helpers/chromium.ts";
import { entryOf, ROOT, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";

const SCREENSHOTS = join(ROOT, "test-results/screenshots");
const runtimes: RuntimeName[] = ["deno", "bun", "workerd", "node"];

let chromium: Chromium;
let browser: BrowserContext;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  chromium = await launchChromium();
  browser = chromium.browser;
});

afterAll(() => chromium?.close());

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

  test("/: connects, sends, shows the echo, then shows that it is reconnecting when the server goes away", async () => {
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
      await expect.poll(() => status.textContent(), { timeout: 15_000 })
        .toMatch(/^reconnecting in \d+\.\d s \(attempt \d+\)$/);
      // What is typed now waits for the server (test/browser/client.test.ts sends it once the server is back).
      expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(false);
      await page.screenshot({ path: join(SCREENSHOTS, `${runtime}-reconnecting.png`) });
      expect(errors).toEqual([]);
    } finally {
      await page?.close();
    }
  });
});
