import { runHardening } from "./scenarios.ts";

runHardening("deno", {
  reportsBuffer: true,
  deadPeerClose: 1001,
  gracefulShutdown: true,
  reportsMemory: true,
  resetsWhilePeerSends: true,
  // Deno drops TCP after its close frame while the burst still arrives, and reports the drop (1006).
  rateLimitOnClose: 1006,
});
