import { startServer } from "../helpers/runtimes.ts";
import { runResumeChaos } from "./resume-chaos.ts";

runResumeChaos(() => startServer("deno", "test/fixtures/resume-deno.ts"));
