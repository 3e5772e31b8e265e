import { serve } from "./adapters/bun.ts";
import { app, demoPort } from "./demo/app.ts";
import { redisBackplane } from "./backplane/redis.ts";

// With REDIS_URL set, chat rooms span every demo process that uses the same Redis.
const backplane = process.env.REDIS_URL ? redisBackplane() : undefined;
const server = serve(app, { port: demoPort(process.env), backplane });
console.log(`edgesocket demo on Bun: http://localhost:${server.port}/`);
// Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.shutdown().then(() => backplane?.close()).then(() => process.exit(0)));
}
