import type { Backplane } from "./pubsub.ts";

/** A Hono app, or anything with its `fetch`: what every adapter serves. */
export interface FetchApp {
  /** Answers one HTTP request; `env` carries the runtime to edgesocket (and a Worker's bindings). */
  fetch(request: Request, env: object, ctx?: unknown): Response | Promise<Response>;
}

/** Options every adapter's `serve()` takes. */
export interface ListenOptions {
  /** Default 8000, as in the seed. `0` picks a free port. */
  port?: number;
  /** Default `"0.0.0.0"`. */
  hostname?: string;
  /** Relays topics between servers, e.g. `redisBackplane()` from `edgesocket/redis`. Default: this process only. */
  backplane?: Backplane;
}

/** The port and hostname `serve()` listens on when none are given. */
export const DEFAULT_LISTEN: Readonly<{ port: number; hostname: string }> = Object.freeze({
  port: 8000,
  hostname: "0.0.0.0",
});
