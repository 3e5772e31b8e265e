import { runRooms } from "./rooms.ts";
import { runConformance } from "./scenarios.ts";

// Measured under `wrangler dev`: its local proxy completes the handshake with workerd itself.
runConformance("workerd", {
  handshake: { postUpgrade: 500, badKey: 101, badVersion: 400 },
  stripsUpgradeHeader: true,
  negotiatesDeflate: true,
  invalidUtf8: "replaced",
  reservedBits: 1002,
  // wrangler dev's proxy closes the client's socket itself; its own socket to the worker stays open.
  malformedOnClose: false,
});
// A plain Worker cannot send on another request's socket: rooms live in a Durable Object.
runRooms("workerd", { pubsub: false });
