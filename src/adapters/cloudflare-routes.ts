/**
 * Which routes of an app a Worker hands to a Durable Object, shared by the Worker and the Durable Object adapters:
 * `toDurableObject()` marks its middleware, and the Worker reads the marks from the app's routes (a resumable route
 * is refused in a plain Worker unless a Durable Object serves it).
 * @module
 */
import { resumableRoutes } from "../core/route.ts";

/** Marks a middleware made by `toDurableObject()`. */
export const FORWARDS_TO_DURABLE_OBJECT: unique symbol = Symbol.for("edgesocket.toDurableObject");

/**
 * Refuses, at setup, an app that a plain Worker would serve resumable routes of: it keeps nothing between requests.
 * @throws Error naming the routes and the fix.
 */
export function refuseSessionsInWorker(app: object): void {
  const resumable = servedByWorker(app, resumableRoutes(app));
  if (resumable.length === 0) return;
  throw new Error(
    `edgesocket: ${resumable.join(", ")} keeps sessions (resume), which a plain Worker cannot: it keeps nothing ` +
      "between requests. Serve the route from a Durable Object (toDurableObject() and durableObject() from " +
      "edgesocket/cloudflare-durable)",
  );
}

/** The paths among `paths` that a `toDurableObject()` middleware of `app` does not cover. */
export function servedByWorker(app: object, paths: readonly string[]): string[] {
  const routes = (app as { routes?: readonly { path: string; handler: unknown }[] }).routes ?? [];
  const forwarded = routes
    .filter(({ handler }) => (handler as { [FORWARDS_TO_DURABLE_OBJECT]?: true })?.[FORWARDS_TO_DURABLE_OBJECT])
    .map(({ path }) => path);
  return paths.filter((path) => !forwarded.some((pattern) => covers(pattern, path)));
}

/**
 * Whether the route pattern `pattern` (of a middleware) matches every request of the route `path`: segment by
 * segment, a param matches any segment and a trailing `*` the rest.
 */
function covers(pattern: string, path: string): boolean {
  const wanted = pattern.split("/");
  const given = path.split("/");
  for (let i = 0; i < wanted.length; i++) {
    const segment = wanted[i]!;
    if (segment === "*" && i === wanted.length - 1) return true;
    if (i >= given.length) return false;
    if (segment.startsWith(":")) continue;
    if (segment !== given[i]) return false;
  }
  return wanted.length === given.length;
}
