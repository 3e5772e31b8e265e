/**
 * Which routes of an app a Worker hands to a Durable Object, shared by the Worker and the Durable Object adapters:
 * `toDurableObject()` marks its middleware, and the Worker reads the marks from the app's routes (a resumable route
 * is refused in a plain Worker unless a Durable Object serves it).
 * @module
 */

/** Marks a middleware made by `toDurableObject()`. */
export const FORWARDS_TO_DURABLE_OBJECT: unique symbol = Symbol.for("edgesocket.toDurableObject");

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
