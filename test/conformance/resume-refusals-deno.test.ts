import { startServer } from "../helpers/runtimes.ts";
import { runResumeRefusals } from "./resume-refusals.ts";

runResumeRefusals(() => startServer("deno", "test/fixtures/resume-deno.ts"));
