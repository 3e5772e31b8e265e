/**
 * edgesocket/client in a real headless Chromium, in the demo pages, against the demo server of each runtime: the
 * page reconnects by itself after the server process is killed and restarted on the same port, and what was typed
 * meanwhile arrives once, in order; a server close with 1008 (the chat's flood limit) is not retried; a handshake
 * refused every time (a cross-origin 403, which the browser hides as a network failure) backs off to `maxDelay`.
 * Small client options come through the page's query string.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Chromium, launchChromium } from "../helpers/chromium.ts";
import { entryOf, ROOT, type RunningServer, type RuntimeName, startServer } from "../helpers/runtimes.ts";

const SCREENSHOTS = join(ROOT, "test-results/screenshots");
const runtimes: RuntimeName[] = ["deno", "bun", "workerd", "node"];
const WAIT = { timeout: 30_000 };

let chromium: Chromium;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  chromium = await launchChromium();
});

afterAll(() => chromium?.close());

/** A page with its errors collected, closed by the test's `finally`. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await chromium.browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return { page, errors };
}

/** The page's connection history (`#history`): "open", "closed (…)", "attempt N in D ms". */
const historyOf = (page: Page) => page.locator("#history li").allTextContents();

/** The delays of the retries the page scheduled, in order. */
const delaysOf = (history: string[]) =>
  history.flatMap((line) => /^attempt \d+ in (\d+) ms$/.exec(line)?.slice(1).map(Number) ?? []);

describe.each(runtimes)("edgesocket/client in Chromium, against the %s demo", (runtime) => {
  let server: RunningServer;
  const start = (port?: number) => startServer(runtime, entryOf(runtime, "demo"), { readyPath: "/", port });

  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server?.stop());

  test("the server is killed and restarted on the same port: the page reconnects by itself, then sends what was typed meanwhile, once, in order", async () => {
    const { page, errors } = await openPage(`${server.httpURL}/?minDelay=200&maxDelay=1000&growFactor=1.5`);
    try {
      const status = page.getByRole("status");
      await expect.poll(() => status.textContent(), WAIT).toBe("open");
      const send = async (text: string) => {
        await page.getByLabel("Message").fill(text);
        await page.getByRole("button", { name: "Send" }).click();
      };
      await send("before");
      const echoes = () => page.locator("#log li").allTextContents();
      await expect.poll(echoes, WAIT).toEqual(["before"]);

      await server.stop();
      await expect.poll(() => status.textContent(), WAIT).toMatch(/^reconnecting in \d+\.\d s \(attempt \d+\)$/);
      for (const text of ["offline 1", "offline 2", "offline 3"]) await send(text);
      await page.screenshot({ path: join(SCREENSHOTS, `${runtime}-client-reconnecting.png`) });

      server = await start(server.port);
      await expect.poll(() => status.textContent(), WAIT).toBe("open");
      await expect.poll(echoes, WAIT).toEqual(["before", "offline 1", "offline 2", "offline 3"]);
      const history = await historyOf(page);
      expect(history.filter((line) => line === "open")).toHaveLength(2);
      // Every retry waited at most maxDelay: the page was back within maxDelay of the server's start.
      expect(delaysOf(history).length).toBeGreaterThan(0);
      expect(Math.max(...delaysOf(history))).toBeLessThanOrEqual(1000);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test("a server close with 1008 (the chat's flood limit) is not retried", async () => {
    const { page, errors } = await openPage(`${server.httpURL}/chat?minDelay=200&maxDelay=1000`);
    try {
      await page.getByLabel("Room").fill(`flood-${runtime}`);
      await page.getByRole("button", { name: "Join" }).click();
      const status = page.getByRole("status");
      await expect.poll(() => status.textContent(), WAIT).toBe(`in room flood-${runtime}`);
      // 51 messages at once through the page's own form: one more than the room's 50 per second. Not more: Deno resets
      // a connection it closes while the peer still sends (caps.resetsWhilePeerSends), which the page would see as
      // 1006, a drop it rightly retries.
      await page.evaluate(() => {
        const form = document.getElementById("form") as HTMLFormElement;
        const input = document.getElementById("message") as HTMLInputElement;
        for (let i = 0; i < 51; i++) {
          input.value = `flood ${i}`;
          form.requestSubmit();
        }
      });
      // The page shows "closed (code)" only for a close event with willRetry false: the client's own decision.
      await expect.poll(() => status.textContent(), WAIT).toBe("closed (1008)");
      const history = await historyOf(page);
      expect(history.at(-1)).toBe("closed (1008 message rate exceeded)");
      expect(delaysOf(history)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test("a handshake refused every time (cross-origin 403) backs off to maxDelay instead of hammering", async () => {
    // Served from http://localhost:PORT, the page connects to ws://127.0.0.1:PORT: another origin, refused with 403.
    const target = `ws://127.0.0.1:${server.port}/websocketserver`;
    const { page, errors } = await openPage(
      `http://localhost:${server.port}/?url=${encodeURIComponent(target)}&minDelay=100&maxDelay=800&growFactor=2`,
    );
    try {
      await expect.poll(async () => delaysOf(await historyOf(page)).filter((d) => d === 800).length, WAIT)
        .toBeGreaterThanOrEqual(2);
      const history = await historyOf(page);
      expect(history).not.toContain("open");
      expect(history.filter((line) => line.startsWith("closed"))).toContain("closed (1006, never opened)");
      const delays = delaysOf(history);
      // Two steps per attempt that never opened: 200, 800 (capped), 800, ... (each stretched by up to 50% jitter).
      expect(delays[0]).toBeGreaterThanOrEqual(200);
      expect(delays.indexOf(800)).toBeLessThanOrEqual(2);
      for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
