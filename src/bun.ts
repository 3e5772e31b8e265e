import { serve } from "./adapters/bun.ts";
import { app, demoPort } from "./demo/app.ts";

const server = serve(app, { port: demoPort(process.env) });
console.log(`edgesocket demo on Bun: http://localhost:${server.port}/`);
// Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.shutdown().then(() => process.exit(0)));
}
