import { serve } from "../../src/adapters/bun.ts";
import { app } from "./edgesocket-app.ts";
import { benchPort } from "./listen-port.ts";

serve(app, { port: benchPort(process.env.PORT), hostname: "127.0.0.1" });
