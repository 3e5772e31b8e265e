import { serve } from "../../src/adapters/node.ts";
import { app } from "./echo.ts";
import { benchPort } from "./port.ts";

serve(app, { port: benchPort(process.env.PORT), hostname: "127.0.0.1" });
