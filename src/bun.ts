import { serve } from "./adapters/bun.ts";
import { app, demoPort } from "./demo/app.ts";
import { redisBackplane } from "./pubsub/redis.ts";

// With REDIS_URL set, chat rooms span every demo process that uses the same Redis.
const server = serve(app, { port: demoPort(process.env), backplane: process.env.REDIS_URL ? redisBackplane() : undefined });
console.log(`edgesocket demo on Bun: http://localhost:${server.port}/`);
