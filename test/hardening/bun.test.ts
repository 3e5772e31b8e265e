import { runHardening } from "./scenarios.ts";

runHardening("bun", {
  reportsBuffer: true,
  deadPeerClose: null,
  gracefulShutdown: true,
  reportsMemory: true,
  dropsPastOwnLimit: true,
  closesWithoutPeerReply: true,
  publishesNatively: true,
});
