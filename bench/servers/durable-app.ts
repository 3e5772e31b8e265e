/**
 * The Durable Object of the `workerd-durable` and `workerd-resume` bench servers: a Worker that hands every request
 * to one object (`ECHO`, named "bench"), which serves the `*-edgesocket` servers' echo handler at `/websocketserver`
 * on a plain route or on a route with `resume: true` (sessions kept in the object's storage). On workerd a resume
 * route needs a Durable Object, so the resume scenario compares the two routes both in one.
 * @module
 */
import { Hono } from "hono";
import { type Worker, worker } from "../../src/adapters/cloudflare.ts";
import { durableObject, type DurableObjectClass, toDurableObject } from "../../src/adapters/cloudflare-durable.ts";
import { websocket, type WebSocketOptions } from "../../src/index.ts";
import { Echo } from "./edgesocket-app.ts";

/**
 * The Worker and the object's class for an echo route with `options`; export the class as `EchoObject` (the
 * binding `ECHO` that bench/servers.ts writes into wrangler's configuration).
 */
export function durableEcho(options: WebSocketOptions): { worker: Worker; EchoObject: DurableObjectClass } {
  const app = new Hono();
  app.use("*", toDurableObject("ECHO", () => "bench"));
  app.get("/websocketserver", websocket(Echo, options));
  return { worker: worker(app), EchoObject: durableObject(app, { handlers: [Echo] }) };
}
