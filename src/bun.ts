import { serve } from "./adapters/bun.ts";
import { redisBackplaneFromEnv } from "./backplane/redis.ts";
import { app, demoPort } from "./demo/app.ts";

// With REDIS_URL (one server) or REDIS_CLUSTER (host:port,…), chat rooms span every demo process.
const backplane = redisBackplaneFromEnv(process.env);
// REUSE_PORT=1: several processes (one per core) listen on the same port; the backplane joins their rooms.
const reusePort = process.env.REUSE_PORT === "1";
if (reusePort && !backplane) {
  throw new Error("REUSE_PORT needs REDIS_URL or REDIS_CLUSTER: rooms must span the processes");
}
const server = serve(app, { port: demoPort(process.env), backplane, reusePort });
console.log(`edgesocket demo on Bun: http://localhost:${server.port}/`);
// Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.shutdown().then(() => backplane?.close()).then(() => process.exit(0)));
}
