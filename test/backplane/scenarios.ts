/**
 * What the backplane tests share: rooms clients on fixture processes (`test/fixtures/redis-*.ts`),
 * publishing over HTTP, and what each process's backplane delivered.
 */
import { expect } from "vitest";
import { type Client, openClient } from "../helpers/client.ts";
import type { RunningServer } from "../helpers/runtimes.ts";
import { openRoomClient, publications, type RoomClient } from "../conformance/rooms.ts";

/** Rooms clients of one test file, closed together. */
export class Rooms {
  readonly clients: Client[] = [];
  #probes = 0;

  /** A client of `server` (of its route `path`) subscribed to `topic`. */
  async join(server: RunningServer, topic: string, path = "/rooms"): Promise<RoomClient> {
    const client = await openRoomClient(`${server.wsURL}${path}`);
    this.clients.push(client);
    await client.command({ sub: topic });
    return client;
  }

  /** Resolves once every server relays to every other one (after start, or Redis's return). */
  async relaying(servers: RunningServer[]): Promise<void> {
    const topic = `probe-${this.#probes++}`;
    const listeners = await Promise.all(servers.map((s) => this.join(s, topic)));
    const deadline = Date.now() + 30_000;
    for (const [i, from] of servers.entries()) {
      const others = listeners.filter((_, j) => j !== i);
      while (!others.every((c) => publications(c).includes(`from ${i}`))) {
        if (Date.now() > deadline) throw new Error("the backplane did not relay within 30 s");
        await publishOver(from, topic, `from ${i}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  close(): void {
    for (const client of this.clients) client.ws.terminate();
  }
}

/** Publishes `data` to `topic` through `server`'s HTTP route. */
export function publishOver(server: RunningServer, topic: string, data: string): Promise<string> {
  return fetch(`${server.httpURL}/topics/${topic}/publish`, { method: "POST", body: data }).then((r) => r.text());
}

/** How many publications `server`'s backplane delivered to it, per topic. */
export async function received(server: RunningServer): Promise<Record<string, number>> {
  return (await fetch(`${server.httpURL}/backplane/received`)).json();
}

/** `server`'s own count of `topic`'s subscribers. */
export async function here(server: RunningServer, topic: string): Promise<number> {
  return (await fetch(`${server.httpURL}/topics/${topic}/subscribers`)).json();
}

/** The deployment-wide count of `topic`, as `server` answers it. */
export async function everywhere(server: RunningServer, topic: string): Promise<number> {
  return (await fetch(`${server.httpURL}/topics/${topic}/everywhere`)).json();
}

/** Resolves once `server` counts `expected` subscribers of `topic` everywhere. */
export async function countReaches(server: RunningServer, topic: string, expected: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = -1;
  while ((last = await everywhere(server, topic)) !== expected) {
    if (Date.now() > deadline) throw new Error(`${topic}: counted ${last}, not ${expected}, within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once every client has `count` publications; rejects after 20 s. */
export async function allArrived(clients: Client[], count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!clients.every((c) => publications(c).length >= count)) {
    if (Date.now() > deadline) {
      throw new Error(`publications: ${clients.map((c) => publications(c).length).join(", ")} of ${count}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A channel per topic: with servers A, B, C, topic 1 has subscribers on A and B, topic 2 on C only.
 * A process receives from Redis the topics it has subscribers of, and nothing else; the counts
 * across processes agree.
 */
export async function onlyOwnTopicsArrive(rooms: Rooms, [a, b, c]: RunningServer[], tag: string): Promise<void> {
  const [one, two] = [`${tag}-one`, `${tag}-two`];
  const onA = await rooms.join(a!, one);
  const onB = [await rooms.join(b!, one), await rooms.join(b!, one)];
  const onC = await rooms.join(c!, two);
  // Both counts go through Redis: every process with subscribers has subscribed to the topic's channel.
  await countReaches(c!, one, 3);
  await countReaches(a!, two, 1);
  const before = await Promise.all([a!, b!, c!].map(received));
  const sent = 20;
  for (let i = 0; i < sent; i++) await publishOver(a!, one, `one ${i}`);
  for (let i = 0; i < sent; i++) await publishOver(c!, two, `two ${i}`);
  await allArrived([...onB, onA, onC], sent);
  const [afterA, afterB, afterC] = await Promise.all([a!, b!, c!].map(received));
  const delta = (after: Record<string, number>, i: number, topic: string) =>
    (after[topic] ?? 0) - (before[i]![topic] ?? 0);
  expect(delta(afterB!, 1, one)).toBe(sent); // once for the process, however many subscribers it has
  expect(delta(afterA!, 0, one)).toBe(0); // its own publications are not handed back
  expect(delta(afterC!, 2, one)).toBe(0); // no subscriber of topic one: none of its traffic
  expect(delta(afterA!, 0, two) + delta(afterB!, 1, two) + delta(afterC!, 2, two)).toBe(0);
  for (const client of [...onB, onA]) expect(publications(client)).toEqual(range(sent, "one"));
  expect(publications(onC)).toEqual(range(sent, "two"));
  // The last subscriber of topic one on B leaves: B stops receiving it.
  for (const client of onB) await client.command({ unsub: one });
  await countReaches(c!, one, 1);
  // B's unsubscription reaches Redis within the batch window: probe until a publication reaches A and not B.
  let probes = 0;
  for (let stillReceived = true; stillReceived; probes++) {
    if (probes === 50) throw new Error("B still receives topic one after its last subscriber left");
    const before = (await received(b!))[one];
    await publishOver(c!, one, `probe ${probes}`);
    await allArrived([onA], sent + probes + 1);
    stillReceived = (await received(b!))[one] !== before;
  }
  const afterLeaving = (await received(b!))[one];
  const more = 5;
  for (let i = 0; i < more; i++) await publishOver(c!, one, `more ${i}`);
  await allArrived([onA], sent + probes + more);
  expect((await received(b!))[one]).toBe(afterLeaving);
  expect(publications(onA).slice(sent + probes)).toEqual(range(more, "more"));
}

/** `["prefix 0", "prefix 1", …]` */
export function range(count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix} ${i}`);
}

/** Chat clients of the demo's room "lobby", one on each of `servers` (`ws://…`). */
export function inLobby(servers: string[]): Promise<Client[]> {
  return Promise.all(servers.map((url) => openClient(`${url}/chat/lobby`)));
}

/**
 * The chat demo: a message of `ann` (on `from`) reaches each of `bobs` in the lobby. Until the
 * backplane has subscribed, a message reaches only its own process, so ann repeats it.
 */
export async function chatCrosses(from: string, bobs: Client[]): Promise<void> {
  const ann = await openClient(`${from}/chat/lobby`);
  const heard = (bob: Client) => bob.messages.map(String).some((m) => m.includes('"text":"hi'));
  const deadline = Date.now() + 20_000;
  for (let sent = 0; !bobs.every(heard); sent++) {
    if (Date.now() > deadline) throw new Error("no message crossed within 20 s");
    ann.ws.send(JSON.stringify({ name: "ann", text: `hi ${sent}` }));
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const bob of bobs) {
    expect(bob.messages.map((m) => JSON.parse(String(m))).filter((m) => m.text)[0]).toMatchObject({ name: "ann" });
    bob.ws.close();
  }
  ann.ws.close();
}
