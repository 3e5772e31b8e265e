/**
 * edgesocket for Deno: the public API, and `deno run mod.ts` serves the demo on port 8000 (or `PORT`).
 * @module
 */
import { serve } from "./src/adapters/deno.ts";

export * from "./src/index.ts";
export { serve };

if (import.meta.main) {
  // The demo is loaded only when run, not when imported as a library.
  const { app, demoPort } = await import("./src/demo/app.ts");
  const port = demoPort({ PORT: Deno.env.get("PORT") });
  // With REDIS_URL set, chat rooms span every demo process that uses the same Redis.
  const backplane = Deno.env.get("REDIS_URL") ? (await import("./src/backplane/redis.ts")).redisBackplane() : undefined;
  const server = serve(app, {
    port,
    backplane,
    onListen: () => console.log(`edgesocket demo on Deno: http://localhost:${port}/`),
  });
  // Graceful shutdown: every socket gets 1001 "server shutting down", every onClose runs, then exit.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(
      signal,
      () => void server.shutdown().then(() => backplane?.close()).then(() => Deno.exit(0)),
    );
  }
}
