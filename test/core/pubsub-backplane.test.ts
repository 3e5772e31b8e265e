/**
 * What the core tells a backplane: a topic's first subscriber on this server (`subscribe`), its last
 * one leaving or closing (`unsubscribe`), and the deployment-wide count it asks the backplane for.
 * The backplane here records calls: a fake, named as such, since what is tested is the core's side.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/core/message.ts";
import { type Backplane, PubSub } from "../../src/core/pubsub.ts";
import { WebSocketHandler } from "../../src/index.ts";
import { CONNECTION } from "../../src/core/handler.ts";
import { type TestServer, testServer } from "../../src/testing.ts";

/** Commands: "sub t", "unsub t". */
class Member extends WebSocketHandler {
  override onMessage(message: Message): void {
    const [command, topic = ""] = String(message).split(" ");
    if (command === "sub") this.subscribe(topic);
    else if (command === "unsub") this.unsubscribe(topic);
    this.send("done");
  }
}

function recordingBackplane(count?: (topic: string) => Promise<number>): Backplane & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    start: () => {},
    subscribe: (topic) => void calls.push(`subscribe ${topic}`),
    unsubscribe: (topic) => void calls.push(`unsubscribe ${topic}`),
    publish: () => {},
    subscribers: count,
    close: async () => {},
  };
}

async function member(server: TestServer) {
  const client = await server.connect(Member);
  return Object.assign(client, {
    async command(command: string) {
      client.send(command);
      await client.nextMessage();
    },
  });
}

describe("PubSub and its backplane", () => {
  it("subscribes on a topic's first local subscriber and unsubscribes when its last one leaves", async () => {
    const backplane = recordingBackplane();
    const server = testServer({ backplane });
    const [a, b] = [await member(server), await member(server)];
    await a.command("sub x");
    await b.command("sub x");
    await b.command("sub y");
    expect(backplane.calls).toEqual(["subscribe x", "subscribe y"]);
    await a.command("unsub x");
    expect(backplane.calls).toEqual(["subscribe x", "subscribe y"]);
    await b.command("unsub x");
    expect(backplane.calls).toEqual(["subscribe x", "subscribe y", "unsubscribe x"]);
  });

  it("unsubscribes the topics of a closed last subscriber", async () => {
    const backplane = recordingBackplane();
    const a = await member(testServer({ backplane }));
    await a.command("sub x");
    await a.command("sub y");
    await a.close();
    expect(backplane.calls.slice(2).sort()).toEqual(["unsubscribe x", "unsubscribe y"]);
  });

  it("subscribersEverywhere asks the backplane, or counts this server's without one that counts", async () => {
    const counting = new PubSub(undefined, recordingBackplane(async (topic) => topic.length * 10));
    expect(await counting.subscribersEverywhere("abc")).toBe(30);
    const local = await member(testServer({ backplane: recordingBackplane() }));
    await local.command("sub x");
    expect(await local.handler[CONNECTION].runtime!.pubsub!.subscribersEverywhere("x")).toBe(1);
    expect(await new PubSub().subscribersEverywhere("x")).toBe(0);
  });
});
