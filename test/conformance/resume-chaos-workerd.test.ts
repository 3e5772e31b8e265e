import { startServer } from "../helpers/runtimes.ts";
import { type WranglerConfig, writeWranglerConfig } from "../helpers/wrangler.ts";
import { runResumeChaos } from "./resume-chaos.ts";
import { afterAll } from "vitest";

// The stream lives in a Durable Object (the one named after it): its session is kept in the object's storage.
let config: WranglerConfig | undefined;
afterAll(() => config?.remove());

runResumeChaos(() => {
  config = writeWranglerConfig("resume-chaos", { RESUME: "ResumeObject" });
  return startServer("workerd", "test/fixtures/resume-worker.ts", { wranglerConfig: config.file });
});
