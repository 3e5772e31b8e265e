import { serve } from "./adapters/node.ts";
import { app, demoPort } from "./demo/app.ts";
import { redisBackplane } from "./pubsub/redis.ts";

const port = demoPort(process.env);
// With REDIS_URL set, chat rooms span every demo process that uses the same Redis.
const server = serve(app, { port, backplane: process.env.REDIS_URL ? redisBackplane() : undefined });
server.on("listening", () => console.log(`edgesocket demo on Node: http://localhost:${port}/`));
