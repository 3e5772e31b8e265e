import { runConformance } from "./scenarios.ts";

runConformance("bun", { invalidUtf8: 1007, reservedBits: 1002 });
