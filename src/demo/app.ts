import { type Env, Hono } from "hono";
import { toDurableObject } from "../adapters/cloudflare-durable.ts";
import { type Message, websocket, WebSocketHandler } from "../index.ts";
import { browserModule } from "../client/browser.ts";
import { chatPage, echoPage } from "./pages.ts";

/** The seed's Tornado handler, line for line. */
export class MyWebSocketServer extends WebSocketHandler {
  override open(): void {
    console.log("New connection");
  }

  override onMessage(message: Message): void {
    console.log(`Message received: ${typeof message === "string" ? message : `${message.byteLength} bytes`}`);
    this.send(message);
  }

  override onClose(): void {
    console.log("Connection closed");
  }
}

/**
 * A chat room per `/chat/:room`: each message `{ "name", "text" }` goes to everyone in the room,
 * the sender included, as `{ "name", "text" }`; joins and leaves as `{ "system" }`.
 */
export class ChatRoom extends WebSocketHandler<Env, { name: string }> {
  override open(params: { room?: string }): void {
    this.subscribe(params.room!);
  }

  override onMessage(message: Message): void {
    const chat = parseChat(message);
    if (!chat) {
      this.send(JSON.stringify({ system: 'not sent: a chat message is {"name": "...", "text": "..."}' }));
      return;
    }
    const { name, text } = chat;
    if (this.state?.name !== name) {
      this.publish(this.params.room!, JSON.stringify({ system: `${name} joined` }), { self: true });
      this.state = { name };
    }
    this.publish(this.params.room!, JSON.stringify({ name, text }), { self: true });
  }

  override onClose(): void {
    if (this.state) this.publish(this.params.room!, JSON.stringify({ system: `${this.state.name} left` }));
  }
}

/** `{ name, text }` from a message, trimmed to sane lengths; `undefined` for anything else. */
function parseChat(message: Message): { name: string; text: string } | undefined {
  let parsed: { name?: unknown; text?: unknown } | null;
  try {
    parsed = JSON.parse(String(message));
  } catch {
    return undefined;
  }
  const { name, text } = parsed ?? {};
  if (typeof name !== "string" || typeof text !== "string") return undefined;
  return { name: name.slice(0, 40) || "anonymous", text: text.slice(0, 2000) };
}

/** The demo app, the same on every runtime: the echo page at `/`, its socket at `/websocketserver`. */
export const app = new Hono();
app.get("/", (c) => c.html(echoPage));
// `all`, not `get`, so that other methods get 405 rather than 404, as from Tornado.
app.all("/websocketserver", websocket(MyWebSocketServer));
app.get("/chat", (c) => c.html(chatPage));
// The pages' client, edgesocket/client bundled into one ES module (src/client/browser.ts): no build step, no CDN.
app.get(
  "/edgesocket-client.js",
  (c) => c.body(browserModule, 200, { "content-type": "text/javascript; charset=utf-8" }),
);
// On Cloudflare each room lives in the Durable Object named after it (binding ROOMS); elsewhere, in this process.
// A flood (over 50 messages in a second) is closed with 1008, which the pages' client does not retry.
// Sessions resume (the pages' EdgeSocket): a dropped connection misses nothing; in a Durable Object they live in
// its storage.
app.all(
  "/chat/:room",
  toDurableObject("ROOMS", (c) => c.req.param("room")!),
  websocket(ChatRoom, { maxMessagesPerSecond: 50, resume: true }),
);

/** The demo's port: `PORT` from the environment, else 8000 as in the seed. */
export function demoPort(env: { PORT?: string } | undefined): number {
  const port = Number(env?.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid PORT ${env?.PORT}`);
  return port;
}
