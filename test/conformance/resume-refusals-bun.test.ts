import { startServer } from "../helpers/runtimes.ts";
import { runResumeRefusals } from "./resume-refusals.ts";

runResumeRefusals(() => startServer("bun", "test/fixtures/resume-bun.ts"));
