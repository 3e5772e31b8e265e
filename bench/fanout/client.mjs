// The fan-out load client: `members` WebSockets per room spread over two server processes, two
// publishers per room (one on each process), each keeping `window` publications in flight until a
// member on the other process has received them. Every delivery is checked: each member must get every
// publication of each publisher of its room exactly once and in order.
import { WebSocket } from "ws";

const SOCKET_IO_PATH = "/socket.io/?EIO=4&transport=websocket";

/** How each server speaks: the URL of a room, and how a text is sent and read. */
const PROTOCOLS = {
  plain: {
    url: (port, room) => `ws://127.0.0.1:${port}/fanout/${room}`,
    frame: (text) => text,
    // `read` returns the publication a frame carries, if any; `ready` calls back once the socket can publish.
    read: (_socket, data) => data.toString(),
    ready: (socket, done) => socket.once("open", done),
  },
  socketio: {
    url: (port, room) => `ws://127.0.0.1:${port}${SOCKET_IO_PATH}&room=${room}`,
    frame: (text) => `42${JSON.stringify(["pub", text])}`,
    read(socket, data) {
      const text = data.toString();
      if (text === "2") socket.send("3"); // Engine.IO ping
      else if (text.startsWith("0{")) socket.send("40"); // join the main namespace
      else if (text.startsWith("42")) return JSON.parse(text.slice(2))[1];
      return undefined;
    },
    ready: (socket, done) => socket.on("message", (data) => data.toString().startsWith("40{") && done()),
  },
};

/**
 * Opens every member, runs `seconds` of publications and checks what arrived. `measured(phase)` is
 * called with "start" and "end" around the measured seconds.
 */
export async function drive({ protocol, ports, rooms = 100, members = 20, window = 4, seconds = 5, measured: mark }) {
  const speak = PROTOCOLS[protocol];
  const roomList = Array.from({ length: rooms }, (_, r) => {
    const list = Array.from({ length: members }, (_, i) => member(speak, ports[i % 2], `room${r}`, i));
    return { members: list, publishers: [list[0], list[1]] };
  });
  const all = roomList.flatMap((room) => room.members);
  for (let i = 0; i < all.length; i += 200) await Promise.all(all.slice(i, i + 200).map((m) => m.opened));
  await probed(speak, roomList);
  const measured = { deliveries: 0, latencies: [] };
  let measuring = true;
  for (const m of all) m.measure = (latency) => measuring && (measured.deliveries++, measured.latencies.push(latency));
  mark?.("start");
  const started = performance.now();
  const pumps = roomList.flatMap((room) =>
    room.publishers.map((publisher, i) =>
      pump(speak, publisher, room.publishers[1 - i], window, started + seconds * 1000)
    )
  );
  await Promise.all(pumps);
  measuring = false;
  mark?.("end");
  const elapsed = (performance.now() - started) / 1000;
  const errors = await settled(roomList);
  for (const m of all) m.socket.terminate();
  measured.latencies.sort((a, b) => a - b);
  const at = (q) => measured.latencies[Math.floor(q * (measured.latencies.length - 1))] ?? NaN;
  return { deliveriesPerSecond: measured.deliveries / elapsed, elapsed, p50: at(0.5), p99: at(0.99), ...errors };
}

function member(speak, port, room, index) {
  const socket = new WebSocket(speak.url(port, room), { perMessageDeflate: false });
  const self = {
    socket,
    id: `${room}.${index}`,
    sent: 0,
    seen: new Map(),
    onReceive: new Map(),
    errors: 0,
    measure: () => {},
  };
  self.opened = new Promise((done, fail) => {
    speak.ready(socket, done);
    socket.once("error", fail);
  });
  socket.on("message", (data) => {
    const text = speak.read(socket, data);
    if (text === undefined) return;
    const [from, seq, sentAt] = text.split(":");
    if (from === "probe") return void self.seen.set(`probe ${seq}`, 0);
    const last = self.seen.get(from) ?? -1;
    if (Number(seq) !== last + 1) self.errors++;
    self.seen.set(from, Number(seq));
    self.measure(performance.now() - Number(sentAt));
    self.onReceive.get(from)?.();
  });
  return self;
}

/** Each publisher sends probes until every member of its room has one: the backplane is subscribed. */
async function probed(speak, roomList) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const waiting = roomList.flatMap((room) =>
      room.publishers.filter((p) => !room.members.every((m) => m === p || m.seen.has(`probe ${p.id}`)))
    );
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${waiting.length} publishers' probes did not reach their rooms`);
    for (const p of waiting) p.socket.send(speak.frame(`probe:${p.id}:0`));
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Keeps `window` publications of `publisher` in flight (sent, not yet received by `watcher`, a member on
 * the other process) until `end`.
 */
function pump(speak, publisher, watcher, window, end) {
  return new Promise((done) => {
    const refill = () => {
      if (performance.now() >= end) return done();
      const received = watcher.seen.get(publisher.id) ?? -1;
      while (publisher.sent - (received + 1) < window) {
        publisher.socket.send(speak.frame(`${publisher.id}:${publisher.sent++}:${performance.now()}`));
      }
    };
    watcher.onReceive.set(publisher.id, refill);
    setTimeout(done, Math.max(0, end - performance.now()) + 1);
    refill();
  });
}

/** Waits (up to 10 s) for every member to have every publication of its room, then counts what is wrong. */
async function settled(roomList) {
  const deadline = Date.now() + 10_000;
  const missingNow = () =>
    roomList.reduce(
      (sum, room) =>
        sum + room.members.reduce((s, m) =>
          s + room.publishers.filter((p) =>
            p !== m
          ).reduce((t, p) => t + (p.sent - 1 - (m.seen.get(p.id) ?? -1)), 0), 0),
      0,
    );
  let missing = missingNow();
  while (missing > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    missing = missingNow();
  }
  const outOfOrder = roomList.reduce((sum, room) => sum + room.members.reduce((s, m) => s + m.errors, 0), 0);
  return { missing, outOfOrder };
}
