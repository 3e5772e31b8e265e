/**
 * edgesocket for Deno: the public API, and `deno run mod.ts` serves the demo on port 8000 (or `PORT`).
 * @module
 */
import { serve } from "./src/adapters/deno.ts";

export * from "./src/index.ts";
export { serve };

/** The demo needs network and environment access; without a terminal to ask, a bare `deno run mod.ts` has neither. */
async function demoPermitted(): Promise<boolean> {
  for (const descriptor of [{ name: "net" }, { name: "env" }] as const) {
    const { state } = await Deno.permissions.query(descriptor);
    if (state === "granted") continue;
    if (state === "denied" || !Deno.stdin.isTerminal()) return false;
    if ((await Deno.permissions.request(descriptor)).state !== "granted") return false;
  }
  return true;
}

if (import.meta.main) {
  if (!(await demoPermitted())) {
    console.error("The demo needs net and env access: run `deno task start` (deno run --allow-net --allow-env mod.ts)");
    Deno.exit(1);
  }
  // The demo is loaded only when run, not when imported as a library.
  const { app, demoPort } = await import("./src/demo/app.ts");
  const port = demoPort({ PORT: Deno.env.get("PORT") });
  // With REDIS_URL (one server) or REDIS_CLUSTER (host:port,…), chat rooms span every demo process.
  const env = Deno.env.toObject();
  const backplane = env.REDIS_URL || env.REDIS_CLUSTER
    ? (await import("./src/backplane/redis.ts")).redisBackplaneFromEnv(env)
    : undefined;
  // REUSE_PORT=1 (with `deno run --unstable-net`): one process per core on one port, rooms joined by the backplane.
  const reusePort = env.REUSE_PORT === "1";
  if (reusePort && !backplane) {
    throw new Error("REUSE_PORT needs REDIS_URL or REDIS_CLUSTER: rooms must span the processes");
  }
  const server = serve(app, {
    port,
    backplane,
    reusePort,
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
