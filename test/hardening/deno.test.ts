import { runHardening } from "./scenarios.ts";

runHardening("deno", {
  reportsBuffer: true,
  deadPeerClose: 1001,
  gracefulShutdown: true,
  reportsMemory: true,
  resetsWhilePeerSends: true,
});
