import cluster from "node:cluster";
import { serve } from "./adapters/node.ts";
import { redisBackplaneFromEnv } from "./backplane/redis.ts";
import { app, demoPort } from "./demo/app.ts";

const port = demoPort(process.env);
// With REDIS_URL (one server) or REDIS_CLUSTER (host:port,…), chat rooms span every demo process.
const backplane = redisBackplaneFromEnv(process.env);
// WORKERS=N: one process per core on one port. Node 20 has no reusePort; its cluster module shares the port.
const workers = Number(process.env.WORKERS ?? 1);
if (workers > 1 && !backplane) throw new Error("WORKERS needs REDIS_URL or REDIS_CLUSTER: rooms must span the workers");

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  console.log(`edgesocket demo on Node, ${workers} workers: http://localhost:${port}/`);
} else {
  const server = serve(app, { port, backplane });
  server.on("listening", () => {
    if (workers === 1) console.log(`edgesocket demo on Node: http://localhost:${port}/`);
  });
  // Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void server.shutdown().then(() => backplane?.close()).then(() => process.exit(0)));
  }
}
