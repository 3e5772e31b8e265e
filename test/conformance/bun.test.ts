import { runRooms } from "./rooms.ts";
import { runConformance } from "./scenarios.ts";

runConformance("bun", { invalidUtf8: 1007, reservedBits: 1002, malformedOnClose: 1006 });
runRooms("bun");
