import { startServer } from "../helpers/runtimes.ts";
import { runResumeRefusals } from "./resume-refusals.ts";

runResumeRefusals(() => startServer("node", "dist/test/fixtures/resume-node.js"));
