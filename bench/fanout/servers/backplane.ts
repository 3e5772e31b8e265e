/**
 * The one place the fan-out servers import edgesocket's Redis backplane from: when the
 * backplane moves, only this line changes.
 * @module
 */
export { redisBackplane } from "../../../src/backplane/redis.ts";
