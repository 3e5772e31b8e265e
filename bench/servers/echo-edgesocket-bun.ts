import { serve } from "../../src/adapters/bun.ts";
import { app } from "./edgesocket-app.ts";
import { withHeapRoute } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

serve(withHeapRoute(app), { port: benchPort(process.env.PORT), hostname: "127.0.0.1" });
