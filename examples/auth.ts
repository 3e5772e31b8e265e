/**
 * Auth before the upgrade, with Hono middleware; the user is visible in the handler.
 *
 * - Browsers: `POST /login` sets a signed, HTTP-only session cookie (`hono/cookie`); the browser sends it with the
 *   WebSocket handshake, and the middleware refuses the upgrade with 401 when it is missing or forged.
 * - Other clients (a service, a CLI): `Authorization: Bearer <token>` (`hono/bearer-auth`) on their own route, since
 *   a browser's `new WebSocket()` cannot set headers.
 * - A front end served from another origin (e.g. `https://app.example.com` talking to `wss://api.example.com`) is
 *   listed in `allowedOrigins`; any other page gets 403 even with a valid cookie (no cross-site WebSocket
 *   hijacking). Same-site origins get a `SameSite=Lax` cookie; a front end on another site needs `SameSite=None`.
 *   The cookie is `Secure`: browsers send it over HTTPS only (and to `localhost`).
 *
 * Run: `SESSION_SECRET=... FRONTEND_ORIGINS=https://app.example.com SERVICE_TOKEN=... \
 *   deno run --allow-net --allow-env examples/auth.ts`
 * @module
 */
import { type Message, websocket, WebSocketHandler } from "edgesocket";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";

/** Who is connected. */
export interface User {
  name: string;
}

/** What the auth middleware gives the routes after it: `c.get("user")`. */
export type AuthEnv = { Variables: { user: User } };

/** Greets the user the middleware found, then echoes with their name. */
export class Greeter extends WebSocketHandler<AuthEnv> {
  /** Read in `open`: the upgrade request's context is released once `open` has run. */
  user: User | undefined;

  override open(): void {
    this.user = this.context.get("user");
    this.send(`hello ${this.user.name}`);
  }

  override onMessage(message: Message): void {
    this.send(`${this.user!.name}: ${message}`);
  }
}

/** How {@link createApp} checks who is connecting. */
export interface AuthOptions {
  /** The key that signs session cookies (HMAC-SHA256). */
  secret: string;
  /** Pages on these origins may connect besides the API's own host, e.g. `["https://app.example.com"]`. */
  frontendOrigins: string[];
  /** Bearer tokens of non-browser clients, and who each one is. */
  serviceTokens: Map<string, User>;
}

const SESSION = "session";

/** The app: `/login`, `/ws` (session cookie) and `/service/ws` (bearer token). */
export function createApp({ secret, frontendOrigins, serviceTokens }: AuthOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  // A stand-in for a real login: whoever posts a name gets a signed session cookie for it.
  app.post("/login", async (c) => {
    const name = (await c.req.formData()).get("name");
    if (typeof name !== "string" || !/^\w{1,32}$/.test(name)) return c.text("a name of 1-32 word characters", 400);
    await setSignedCookie(c, SESSION, name, secret, { httpOnly: true, secure: true, sameSite: "Lax", path: "/" });
    return c.text(`logged in as ${name}`);
  });

  const sessionUser = createMiddleware<AuthEnv>(async (c, next) => {
    const name = await getSignedCookie(c, secret, SESSION);
    if (!name) return c.text("log in first", 401);
    c.set("user", { name });
    await next();
  });
  app.all("/ws", sessionUser, websocket(Greeter, { allowedOrigins: frontendOrigins }));

  const tokenUser = bearerAuth<AuthEnv>({
    verifyToken: (token, c) => {
      const user = serviceTokens.get(token);
      if (user) c.set("user", user);
      return user !== undefined;
    },
  });
  app.all("/service/ws", tokenUser, websocket(Greeter));

  app.get("/health", (c) => c.text("ok"));
  return app;
}

if (import.meta.main) {
  const { serve } = await import("edgesocket/deno");
  const env = Deno.env.toObject();
  const secret = env.SESSION_SECRET ?? crypto.randomUUID(); // without one, sessions last until a restart
  const frontendOrigins = (env.FRONTEND_ORIGINS ?? "").split(",").filter(Boolean);
  const serviceTokens = new Map(env.SERVICE_TOKEN ? [[env.SERVICE_TOKEN, { name: "service" }]] : []);
  const port = Number(env.PORT ?? 8000);
  serve(createApp({ secret, frontendOrigins, serviceTokens }), {
    port,
    onListen: () => console.log(`auth example on http://localhost:${port}/`),
  });
}
