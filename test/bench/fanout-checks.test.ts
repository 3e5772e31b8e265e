/**
 * The checks of the fan-out load client (bench/fanout/load.ts) on deliveries fed by hand: a benchmark that
 * reports "all in order" must notice a lost, repeated, reordered or foreign delivery. The publishers' sockets
 * are stand-ins that record what would be sent; `npm run bench:fanout` drives the real servers.
 */
import { describe, expect, test } from "vitest";
import { FanoutLoad, LatencyHistogram } from "../../bench/fanout/load.ts";

/** One room, a subscriber on each of two servers, a publisher on each; every publication is recorded. */
function oneRoom(kind: "edgesocket" | "socketio" = "edgesocket") {
  const load = new FanoutLoad({
    kind,
    servers: ["ws://a", "ws://b"],
    rooms: 1,
    subscribers: 2,
    inflight: 2,
    rate: 1,
    warmupMs: 0,
    measureMs: 0,
  });
  const sent: string[] = [];
  for (const publisher of load.publishers) publisher.socket = { send: (text) => sent.push(text) };
  load.pumping = true;
  for (const publisher of load.publishers) load.pump(publisher);
  return { load, sent };
}

describe("fan-out delivery checks", () => {
  test("publishers keep `inflight` publications under way and send the next once all subscribers have one", () => {
    const { load, sent } = oneRoom();
    expect(sent).toHaveLength(4);
    const [first] = load.publishers;
    const publication = sent[0]!;
    expect(publication).toMatch(/^0 0 [\d.]+$/);
    load.delivered(load.subscribers[0]!, publication, 0);
    expect(sent).toHaveLength(4);
    load.delivered(load.subscribers[1]!, publication, 0);
    expect(first!.completed).toBe(1);
    expect(sent).toHaveLength(5);
    expect(load.wrong).toBe(0);
  });

  test("a delivery out of order is counted as wrong and said in words", () => {
    const { load, sent } = oneRoom();
    const second = sent.find((text) => text.startsWith("0 1 "))!;
    load.delivered(load.subscribers[0]!, second, 0);
    expect(load.wrong).toBe(1);
    expect(load.problems[0]).toBe("subscriber 0 expected 0 from publisher 0, got 1");
  });

  test("a repeated delivery is wrong once the publication is complete", () => {
    const { load, sent } = oneRoom();
    const first = sent[0]!;
    for (const subscriber of load.subscribers) load.delivered(subscriber, first, 0);
    load.delivered(load.subscribers[0]!, first, 0);
    expect(load.wrong).toBe(2); // out of order (0 again after 0) and one delivery too many
    expect(load.problems).toContain("publisher 0: 0 delivered once too often");
  });

  test("a publication of another room or publisher is wrong; one never delivered stays pending", () => {
    const { load, sent } = oneRoom();
    load.delivered(load.subscribers[0]!, "7 0 0", 0);
    expect(load.wrong).toBe(1);
    expect(load.problems[0]).toMatch(/got "7 0 0"/);
    load.delivered(load.subscribers[0]!, sent[0]!, 0);
    expect(load.publishers[0]!.pending.get(0)).toBe(1);
    expect(load.unfinished()).toHaveLength(2);
  });

  test("probes are not publications: each subscriber counts once per publisher", () => {
    const { load } = oneRoom();
    load.delivered(load.subscribers[0]!, "1 -1 0", 0);
    load.delivered(load.subscribers[0]!, "1 -1 0", 0);
    expect(load.publishers[1]!.probed).toBe(1);
    expect(load.unprobed().map((publisher) => publisher.index)).toEqual([0, 1]);
    load.delivered(load.subscribers[1]!, "1 -1 0", 0);
    expect(load.unprobed().map((publisher) => publisher.index)).toEqual([0]);
    expect(load.wrong).toBe(0);
  });

  test("Socket.IO publications go out as `publish` events with the room", () => {
    const { sent } = oneRoom("socketio");
    expect(sent[0]).toMatch(/^42\["publish","room-0","0 0 [\d.]+"\]$/);
  });

  test("the latency histogram's quantiles, to its 10 µs buckets", () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.5)).toBeNaN();
    for (let ms = 1; ms <= 100; ms++) histogram.add(ms);
    expect(histogram.quantile(0.5)).toBe(50);
    expect(histogram.quantile(0.99)).toBe(99);
    histogram.add(10_000);
    expect(histogram.quantile(1)).toBe(5000);
  });
});
