/**
 * The app of every `*-resume` bench server: the `*-edgesocket` servers' echo handler, at `/websocketserver` on a
 * route with `resume: true`, so that the resume scenario compares the same handler on a plain and a resume route.
 * @module
 */
import { Hono } from "hono";
import { websocket } from "../../src/index.ts";
import { Echo } from "./edgesocket-app.ts";

/** `/websocketserver`: the echo, resumable. */
export const app = new Hono();
app.get("/websocketserver", websocket(Echo, { resume: true }));
