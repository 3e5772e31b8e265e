// The load client process: `node dist/bench/fanout/load-main.js '<LoadConfig as JSON>'` (see load.ts).
import process from "node:process";
import { emit, type LoadConfig, runLoad } from "./load.ts";

const config = JSON.parse(process.argv[2] ?? "") as LoadConfig;
emit({ event: "result", ...await runLoad(config) });
process.exit(0);
