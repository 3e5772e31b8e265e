import { startServer } from "../helpers/runtimes.ts";
import { runResumeRefusals } from "./resume-refusals.ts";

runResumeRefusals((options) => startServer("deno", "test/fixtures/resume-deno.ts", options));
