// The resume protocol's least work, by hand on the raw Bun API, for the resume scenario's floor: what any server that
// echoes on a resume route must do per message (count both ways, keep each echo until the client confirms it,
// acknowledge every 64 messages or 100 ms after the first one not acknowledged), with no framework and none of
// edgesocket's checks, hooks or limits. The wire format is docs/resume.md's; it imports nothing from edgesocket.
import { HEAP_PATH, heapResponder } from "./heap.ts";
import { benchPort } from "./listen-port.ts";

const PROTOCOL = "edgesocket.resume.v1";
const ACK_EVERY = 64;
const ACK_DELAY_MS = 100;

/**
 * One session: its counts and the echoes the client has not confirmed, `kept[head]` to `kept[tail - 1]` (numbered
 * `sent - (tail - head) + 1` to `sent`). The array keeps its room when emptied, and is compacted once its dropped
 * front is at least 256 slots and as long as the rest.
 */
class RawSession {
  id = "";
  sent = 0;
  received = 0;
  acknowledged = 0;
  kept: (string | Uint8Array | undefined)[] = [];
  head = 0;
  tail = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
}

type Ws = Bun.ServerWebSocket<RawSession>;

function sessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

function acknowledge(ws: Ws, session: RawSession): void {
  session.acknowledged = session.received;
  ws.sendText("\0a" + session.received);
}

function late(ws: Ws, session: RawSession): void {
  session.timer = undefined;
  if (session.received > session.acknowledged) acknowledge(ws, session);
}

function confirmed(session: RawSession, count: number): void {
  const { kept, head, tail } = session;
  const end = head + count - (session.sent - (tail - head));
  if (end <= head) return;
  for (let i = head; i < end; i++) kept[i] = undefined;
  if (end === tail) {
    session.head = session.tail = 0;
  } else if (end >= 256 && end >= tail - end) {
    kept.copyWithin(0, end, tail);
    for (let i = tail - end; i < tail; i++) kept[i] = undefined;
    session.head = 0;
    session.tail = tail - end;
  } else {
    session.head = end;
  }
}

function control(ws: Ws, session: RawSession, text: string): void {
  if (text.charCodeAt(1) === 97 /* a */) return confirmed(session, Number(text.slice(2)));
  if (text.charCodeAt(1) === 104 /* h */ && session.id === "") {
    session.id = sessionId();
    ws.sendText(`\0w0 0 ${session.id} `);
    return;
  }
  ws.close(1002, "unexpected control frame");
}

const heap = heapResponder();
Bun.serve<RawSession>({
  port: benchPort(process.env.PORT),
  hostname: "127.0.0.1",
  fetch(request, server) {
    const path = new URL(request.url).pathname;
    if (path === HEAP_PATH) return heap();
    const offered = request.headers.get("sec-websocket-protocol")?.split(",").map((p) => p.trim()) ?? [];
    const headers = { "sec-websocket-protocol": offered.includes(PROTOCOL) ? PROTOCOL : "" };
    if (path === "/websocketserver" && server.upgrade(request, { data: new RawSession(), headers })) return undefined;
    return new Response("not found", { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    message(ws, message) {
      const session = ws.data;
      if (typeof message === "string" && message.charCodeAt(0) === 0) return control(ws, session, message);
      const unacknowledged = ++session.received - session.acknowledged;
      // The echo, kept until confirmed (the bench's payload never starts with U+0000: no escape).
      session.sent++;
      session.kept[session.tail++] = message;
      if (typeof message === "string") ws.sendText(message);
      else ws.sendBinary(message);
      if (unacknowledged >= ACK_EVERY) acknowledge(ws, session);
      else session.timer ??= setTimeout(() => late(ws, session), ACK_DELAY_MS);
    },
  },
});
