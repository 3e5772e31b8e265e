import { serve } from "./adapters/node.ts";
import { app, demoPort } from "./demo/app.ts";
import { redisBackplane } from "./backplane/redis.ts";

const port = demoPort(process.env);
// With REDIS_URL set, chat rooms span every demo process that uses the same Redis.
const backplane = process.env.REDIS_URL ? redisBackplane() : undefined;
const server = serve(app, { port, backplane });
server.on("listening", () => console.log(`edgesocket demo on Node: http://localhost:${port}/`));
// Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.shutdown().then(() => backplane?.close()).then(() => process.exit(0)));
}
