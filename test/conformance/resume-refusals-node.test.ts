import { startServer } from "../helpers/runtimes.ts";
import { runResumeRefusals } from "./resume-refusals.ts";

runResumeRefusals((options) => startServer("node", "dist/test/fixtures/resume-node.js", options));
