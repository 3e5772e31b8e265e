/**
 * JSON messages validated with a Standard Schema validator (valibot here; zod or arktype work the same), through
 * edgesocket's `parseMessage`.
 *
 * A bad message (not JSON, or not the schema) gets a clear error back and, by default, the socket stays open.
 * `onInvalid` is the policy: `"reply"` (default), or a close code, `1007` (invalid payload) or `1008` (policy
 * violation), to close the connection after the error reply.
 *
 * Run: `deno run --allow-net --allow-env examples/json.ts`; then send `{"type":"add","a":1,"b":2}` to
 * `ws://localhost:8000/ws` (lenient) or `/strict`.
 * @module
 */
import { InvalidMessageError, type Message, parseMessage, websocket, WebSocketHandler } from "edgesocket";
import { Hono } from "hono";
import * as v from "valibot";

/** The messages a client may send. */
export const Command = v.variant("type", [
  v.object({
    type: v.literal("say"),
    text: v.pipe(v.string(), v.nonEmpty("must not be empty"), v.maxLength(500, "at most 500 characters")),
  }),
  v.object({ type: v.literal("add"), a: v.number(), b: v.number() }),
]);

/** What to do with a message that is not a valid {@link Command}. */
export type InvalidPolicy = "reply" | 1007 | 1008;

/** Answers each command; replies `{"type":"error","error":"..."}` to a bad one, then applies `onInvalid`. */
export class Commands extends WebSocketHandler {
  /** Reply and stay open (default), or reply and close with this code. */
  onInvalid: InvalidPolicy = "reply";

  override async onMessage(message: Message): Promise<void> {
    let command: v.InferOutput<typeof Command>;
    try {
      command = await parseMessage(Command, message);
    } catch (error) {
      if (!(error instanceof InvalidMessageError)) throw error;
      this.send(JSON.stringify({ type: "error", error: error.message }));
      if (this.onInvalid !== "reply") this.close(this.onInvalid, "invalid message");
      return;
    }
    switch (command.type) {
      case "say":
        this.send(JSON.stringify({ type: "said", text: command.text }));
        break;
      case "add":
        this.send(JSON.stringify({ type: "sum", value: command.a + command.b }));
        break;
    }
  }
}

/** The same commands, closing with 1008 on the first bad message. */
export class StrictCommands extends Commands {
  override onInvalid: InvalidPolicy = 1008;
}

/** `/ws`: replies to bad messages and stays open; `/strict`: closes with 1008. */
export const app = new Hono();
app.all("/ws", websocket(Commands));
app.all("/strict", websocket(StrictCommands));
app.get("/health", (c) => c.text("ok"));

if (import.meta.main) {
  const { serve } = await import("edgesocket/deno");
  const port = Number(Deno.env.get("PORT") ?? 8000);
  serve(app, { port, onListen: () => console.log(`json example on ws://localhost:${port}/ws`) });
}
