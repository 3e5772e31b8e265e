import { runHardening } from "./scenarios.ts";

runHardening("workerd", { reportsBuffer: false, deadPeerClose: false, gracefulShutdown: false, reportsMemory: false });
