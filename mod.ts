/**
 * edgesocket for Deno: the public API, and `deno run mod.ts` serves the demo on port 8000 (or `PORT`).
 * @module
 */
export * from "./src/index.ts";
export { serve } from "./src/adapters/deno.ts";

if (import.meta.main) {
  const { serve } = await import("./src/adapters/deno.ts");
  const { app, demoPort } = await import("./src/demo/app.ts");
  const port = demoPort(Deno.env.toObject());
  const server = serve(app, { port, onListen: () => console.log(`edgesocket demo on Deno: http://localhost:${port}/`) });
  // Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void server.shutdown().then(() => Deno.exit(0)));
  }
}
