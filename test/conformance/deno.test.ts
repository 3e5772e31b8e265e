import { runConformance } from "./scenarios.ts";

runConformance("deno", {
  handshake: { postUpgrade: 400 },
  invalidUtf8: null,
  reservedBits: null,
});
