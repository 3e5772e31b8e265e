// edgesocket's echo on a route with `resume: true` (the resume scenario's other side of `deno-edgesocket`).
import { serve } from "../../src/adapters/deno.ts";
import { app } from "./resume-app.ts";
import { withHeapRoute } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

serve(withHeapRoute(app), { port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} });
