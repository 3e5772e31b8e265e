import { runRooms } from "./rooms.ts";
import { runConformance } from "./scenarios.ts";

runConformance("node", { invalidUtf8: 1007, reservedBits: 1002, malformedOnClose: 1006, oversizeOnClose: 1006 });
runRooms("node");
