import { startServer } from "../helpers/runtimes.ts";
import { runResumeChaos } from "./resume-chaos.ts";

runResumeChaos(() => startServer("node", "dist/test/fixtures/resume-node.js"));
