import { serve } from "../../../src/adapters/deno.ts";
import { redisBackplane } from "./backplane.ts";
import { fanoutApp } from "./edgesocket-app.ts";
import { benchPort } from "../../servers/listen-port.ts";

// PORT and REDIS_URL come from the runner.
serve(fanoutApp, {
  port: benchPort(Deno.env.get("PORT")),
  hostname: "127.0.0.1",
  backplane: redisBackplane(),
  onListen: () => {},
});
