import { runHardening } from "./scenarios.ts";

runHardening("node", { reportsBuffer: true, deadPeerClose: null, gracefulShutdown: true, reportsMemory: true });
