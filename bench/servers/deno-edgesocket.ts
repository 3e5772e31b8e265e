import { serve } from "../../src/adapters/deno.ts";
import { app } from "./echo.ts";
import { benchPort } from "./port.ts";

serve(app, { port: benchPort(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen: () => {} });
