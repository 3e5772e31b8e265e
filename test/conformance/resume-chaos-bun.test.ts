import { startServer } from "../helpers/runtimes.ts";
import { runResumeChaos } from "./resume-chaos.ts";

runResumeChaos(() => startServer("bun", "test/fixtures/resume-bun.ts"));
