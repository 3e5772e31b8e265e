import { serve } from "./adapters/node.ts";
import { app, demoPort } from "./demo/app.ts";

const port = demoPort(process.env);
const server = serve(app, { port });
server.on("listening", () => console.log(`edgesocket demo on Node: http://localhost:${port}/`));
// Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.shutdown().then(() => process.exit(0)));
}
