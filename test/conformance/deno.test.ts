import { runRooms } from "./rooms.ts";
import { runConformance } from "./scenarios.ts";

runConformance("deno", {
  handshake: { postUpgrade: 400 },
  invalidUtf8: null,
  reservedBits: null,
});
runRooms("deno");
