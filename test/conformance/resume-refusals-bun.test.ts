import { startServer } from "../helpers/runtimes.ts";
import { runResumeRefusals } from "./resume-refusals.ts";

runResumeRefusals((options) => startServer("bun", "test/fixtures/resume-bun.ts", options));
