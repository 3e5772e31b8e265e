/**
 * The resume chaos scenario (test/conformance/resume-chaos.ts) with `EdgeSocket` in a real headless Chromium: the
 * page and the client module are served by the fixture through the cutting proxy (one origin), the page streams
 * 10,000 messages each way while the proxy cuts its connection 50 times.
 */
import { describe } from "vitest";
import { launchChromium } from "../helpers/chromium.ts";
import { startServer } from "../helpers/runtimes.ts";
import {
  CHAOS_CLIENT_OPTIONS,
  type ChaosClientFactory,
  type ChaosClientState,
  runResumeChaos,
} from "../conformance/resume-chaos.ts";

/** What the page keeps on `globalThis`. */
interface PageGlobals {
  EdgeSocket: typeof import("../../src/client/index.ts").EdgeSocket;
  chaosOpened(): void;
  chaos: {
    state: ChaosClientState;
    socket: InstanceType<PageGlobals["EdgeSocket"]>;
  };
}

/** The chaos client in a Chromium page loaded from the proxy. */
const chromiumClient: ChaosClientFactory = async (url, opened, proxyPort) => {
  const chromium = await launchChromium();
  const page = await chromium.browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.exposeFunction("chaosOpened", opened);
  await page.goto(`http://127.0.0.1:${proxyPort}/resume-page`);
  await page.waitForFunction(() => "EdgeSocket" in globalThis);
  await page.evaluate(({ url, options }) => {
    const page = globalThis as unknown as PageGlobals;
    const EdgeSocket = page.EdgeSocket;
    const state: ChaosClientState = {
      readyState: 0,
      received: 0,
      outOfOrder: 0,
      last: undefined,
      opens: 0,
      resumedOpens: 0,
      unconfirmed: 0,
    };
    const socket = new EdgeSocket(url, undefined, options);
    socket.addEventListener("message", (event) => {
      if (event.data !== `s${state.received + 1}`) state.outOfOrder++;
      state.received++;
      state.last = String(event.data);
    });
    socket.addEventListener("open", (event) => {
      state.opens++;
      if (event.resumed) state.resumedOpens++;
      page.chaosOpened();
    });
    page.chaos = { state, socket };
  }, { url, options: CHAOS_CLIENT_OPTIONS });
  return {
    send: (from, to) =>
      page.evaluate(([from, to]) => {
        const { socket } = (globalThis as unknown as PageGlobals).chaos;
        for (let i = from; i <= to; i++) socket.send(`c${i}`);
      }, [from, to] as const),
    state: async () => {
      if (errors.length > 0) throw new Error(`the page failed: ${errors.join("; ")}`);
      return await page.evaluate(() => {
        const { socket, state } = (globalThis as unknown as PageGlobals).chaos;
        return { ...state, readyState: socket.readyState, unconfirmed: socket.unconfirmed };
      });
    },
    close: (code, reason) =>
      page.evaluate(([code, reason]) => {
        (globalThis as unknown as PageGlobals).chaos.socket.close(code, reason);
      }, [code, reason] as const),
    dispose: () => chromium.close(),
  };
};

describe("in Chromium, against Node", () => {
  runResumeChaos(() => startServer("node", "dist/test/fixtures/resume-node.js"), { client: chromiumClient });
});
