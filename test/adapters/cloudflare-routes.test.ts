/**
 * Where Cloudflare keeps resumable sessions, decided at setup: `worker(app)` (through `refuseSessionsInWorker`, which
 * is all it does with the routes) refuses a resumable route that it would serve itself (it keeps nothing between requests) and lets through one that `toDurableObject()` hands to a Durable
 * Object; `durableObject()` refuses resumable routes in a class without the synchronous storage of a SQLite-backed
 * one. Both run at setup, before any request, so they are checked here without workerd.
 */
import { Hono } from "hono";
import { describe, expect, test } from "vitest";
import { refuseSessionsInWorker } from "../../src/adapters/cloudflare-routes.ts";
import { durableObject, type DurableObjectState, toDurableObject } from "../../src/adapters/cloudflare-durable.ts";
import { websocket, WebSocketHandler } from "../../src/index.ts";

class Chat extends WebSocketHandler {}

const toRoom = toDurableObject("ROOMS", (c) => c.req.param("room") ?? "main");

describe("worker(app) and resumable routes", () => {
  test("a resumable route the Worker would serve itself is refused, naming it and the fix", () => {
    const app = new Hono();
    app.get("/plain", websocket(Chat));
    app.get("/chat", websocket(Chat, { resume: true }));
    expect(() => refuseSessionsInWorker(app)).toThrow(
      /\/chat keeps sessions \(resume\).*Serve the route from a Durable Object/,
    );
  });

  test("one that toDurableObject() hands to an object passes: in the same route, or by a middleware's pattern", () => {
    const direct = new Hono();
    direct.all("/chat/:room", toRoom, websocket(Chat, { resume: true }));
    expect(() => refuseSessionsInWorker(direct)).not.toThrow();

    const mounted = new Hono();
    const rooms = new Hono();
    rooms.get("/chat", websocket(Chat, { resume: true }));
    mounted.use("/do/:room/*", toRoom);
    mounted.route("/do/:room", rooms);
    expect(() => refuseSessionsInWorker(mounted)).not.toThrow();

    const everything = new Hono();
    everything.use("*", toRoom);
    everything.get("/a/b/c", websocket(Chat, { resume: true }));
    expect(() => refuseSessionsInWorker(everything)).not.toThrow();
  });

  test("a middleware whose pattern does not cover the route does not count", () => {
    const app = new Hono();
    app.use("/do/:room/*", toRoom);
    app.get("/do/:room/chat", websocket(Chat, { resume: true }));
    app.get("/elsewhere/chat", websocket(Chat, { resume: true }));
    app.get("/do", websocket(Chat, { resume: true }));
    expect(() => refuseSessionsInWorker(app)).toThrow(/^edgesocket: \/elsewhere\/chat, \/do keeps sessions/);
  });
});

describe("durableObject(app) and resumable routes", () => {
  const state = (storage: object) =>
    ({
      storage,
      acceptWebSocket() {},
      getWebSockets: () => [],
      setWebSocketAutoResponse() {},
    }) as unknown as DurableObjectState;

  test("a class without synchronous storage (KV-backed) is refused when a route resumes", () => {
    const app = new Hono();
    app.get("/chat/:room", websocket(Chat, { resume: true }));
    const Rooms = durableObject(app, { handlers: [Chat], autoResponse: null });
    expect(() => new Rooms(state({ setAlarm() {}, deleteAlarm() {} }), {})).toThrow(
      /\/chat\/:room keeps sessions \(resume\) in the Durable Object's storage, which needs a SQLite-backed class/,
    );
  });

  test("with resumable routes, no automatic answer: an explicit one is refused at once", () => {
    const app = new Hono();
    app.get("/chat/:room", websocket(Chat, { resume: true }));
    expect(() => durableObject(app, { handlers: [Chat], autoResponse: { request: "hb", response: "ack" } })).toThrow(
      /autoResponse cannot be used with \/chat\/:room, which keeps sessions/,
    );
    let set: unknown = "not called";
    const Rooms = durableObject(app, { handlers: [Chat] });
    const ctx = state({ kv: {}, setAlarm() {}, deleteAlarm() {} });
    ctx.setWebSocketAutoResponse = (pair?: unknown) => (set = pair);
    new Rooms(ctx, {});
    expect(set).toBe("not called");
  });

  test("without resumable routes, any class will do", () => {
    const app = new Hono();
    app.get("/chat/:room", websocket(Chat));
    const Rooms = durableObject(app, { handlers: [Chat], autoResponse: null });
    expect(() => new Rooms(state({}), {})).not.toThrow();
  });
});
