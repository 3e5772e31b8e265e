import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection, type Transport } from "../../src/core/connection.ts";
import { CloseCode, ReadyState } from "../../src/core/constants.ts";
import { WebSocketClosedError } from "../../src/core/errors.ts";
import { CONNECTION, WebSocketHandler } from "../../src/core/handler.ts";
import type { Message, SendData } from "../../src/core/message.ts";
import { resolveOptions, type WebSocketOptions } from "../../src/core/options.ts";
import { Runtime } from "../../src/core/runtime.ts";

/** A runtime socket that records what the core does to it; the test reports `closed` itself. */
class FakeTransport implements Transport {
  sent: SendData[] = [];
  closes: Array<[number | undefined, string | undefined]> = [];
  send(data: SendData): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closes.push([code, reason]);
  }
}

/** Records every hook call in `log`; subclasses override hooks and call `super`. */
class RecordingHandler extends WebSocketHandler {
  log: string[] = [];
  errors: unknown[] = [];
  override open(params: Record<string, string>): void | Promise<void> {
    this.log.push(`open ${JSON.stringify(params)}`);
  }
  override onMessage(message: Message): void | Promise<void> {
    this.log.push(`message ${typeof message === "string" ? message : `<${message.byteLength} bytes>`}`);
  }
  override onClose(code: number, reason: string): void | Promise<void> {
    this.log.push(`close ${code} ${reason}`.trimEnd());
  }
  override onError(error: unknown): void {
    this.errors.push(error);
    this.log.push(`error ${(error as Error).message}`);
  }
}

function setup<H extends WebSocketHandler>(handler: H, options?: WebSocketOptions) {
  const connection = new Connection(handler, resolveOptions(options), undefined);
  const transport = new FakeTransport();
  return { connection, transport, handler };
}

function opened<H extends WebSocketHandler>(handler: H, options?: WebSocketOptions) {
  const parts = setup(handler, options);
  parts.connection.open(parts.transport);
  return parts;
}

/** A promise with its resolve and reject exposed. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("`readyState`", () => {
  it("is CONNECTING, then OPEN, CLOSING and CLOSED", () => {
    const { connection, transport } = setup(new RecordingHandler());
    expect(connection.readyState).toBe(ReadyState.CONNECTING);
    connection.open(transport);
    expect(connection.readyState).toBe(ReadyState.OPEN);
    connection.close();
    expect(connection.readyState).toBe(ReadyState.CLOSING);
    connection.closed(1000, "");
    expect(connection.readyState).toBe(ReadyState.CLOSED);
  });
});

describe("#open", () => {
  it("runs the handler's open with empty params when there is no context", () => {
    const { handler } = opened(new RecordingHandler());
    expect(handler.log).toEqual(["open {}"]);
  });

  it("keeps the transport it is given", () => {
    const { connection, transport } = opened(new RecordingHandler());
    expect(connection.transport).toBe(transport);
  });

  it("runs open only once when called twice", () => {
    const { connection, transport, handler } = opened(new RecordingHandler());
    connection.open(transport);
    expect(handler.log).toEqual(["open {}"]);
  });

  it("does not run open once the socket has closed", () => {
    const { connection, transport, handler } = setup(new RecordingHandler());
    connection.closed(1006, "");
    connection.open(transport);
    expect(handler.log).toEqual([]);
    expect(connection.readyState).toBe(ReadyState.CLOSED);
  });

  it("reports a throwing open to onError and closes with 1011", () => {
    class Throws extends RecordingHandler {
      override open(): void {
        throw new Error("boom");
      }
    }
    const { transport, handler } = opened(new Throws());
    expect(handler.log).toEqual(["error boom"]);
    expect(transport.closes).toEqual([[1011, "internal error"]]);
  });

  it("reports a rejecting open to onError and closes with 1011", async () => {
    class Rejects extends RecordingHandler {
      override async open(): Promise<void> {
        throw new Error("async boom");
      }
    }
    const { transport, handler } = opened(new Rejects());
    expect(transport.closes).toEqual([]);
    await flush();
    expect(handler.log).toEqual(["error async boom"]);
    expect(transport.closes).toEqual([[1011, "internal error"]]);
  });

  it("drops the messages that arrived during an open that rejects", async () => {
    const gate = deferred();
    class Rejects extends RecordingHandler {
      override open(): Promise<void> {
        return gate.promise;
      }
    }
    const { connection, handler } = opened(new Rejects());
    connection.receive("a");
    gate.reject(new Error("no"));
    await flush();
    expect(handler.log).toEqual(["error no"]);
  });
});

describe("#receive", () => {
  it("hands a text message to onMessage as a string", () => {
    const { connection, handler } = opened(new RecordingHandler());
    connection.receive("hi");
    expect(handler.log).toEqual(["open {}", "message hi"]);
  });

  it("hands a binary message to onMessage as the same ArrayBuffer", () => {
    const received: Message[] = [];
    class Keeps extends RecordingHandler {
      override onMessage(message: Message): void {
        received.push(message);
      }
    }
    const { connection } = opened(new Keeps());
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    connection.receive(buffer);
    expect(received).toEqual([buffer]);
    expect(received[0]).toBe(buffer);
  });

  it("drops a message that arrives before open", () => {
    const { connection, transport, handler } = setup(new RecordingHandler());
    connection.receive("too early");
    connection.open(transport);
    expect(handler.log).toEqual(["open {}"]);
  });

  it("holds messages until an async open settles, then handles them in order", async () => {
    const gate = deferred();
    class SlowOpen extends RecordingHandler {
      override async open(params: Record<string, string>): Promise<void> {
        super.open(params);
        await gate.promise;
        this.log.push("open settled");
      }
    }
    const { connection, handler } = opened(new SlowOpen());
    connection.receive("a");
    connection.receive("b");
    await flush();
    expect(handler.log).toEqual(["open {}"]);
    gate.resolve();
    await flush();
    expect(handler.log).toEqual(["open {}", "open settled", "message a", "message b"]);
  });

  it("handles 1,000 messages one at a time and in order when onMessage is async", async () => {
    let running = 0;
    let maxRunning = 0;
    const seen: string[] = [];
    class Slow extends RecordingHandler {
      override async onMessage(message: Message): Promise<void> {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const n = Number(message);
        // Uneven delays: a message handled out of turn would overtake its predecessor.
        for (let i = 0; i < (n * 7) % 5; i++) await Promise.resolve();
        if (n % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        seen.push(message as string);
        running--;
      }
    }
    const { connection } = opened(new Slow());
    const sent = Array.from({ length: 1000 }, (_, i) => String(i));
    for (const message of sent) connection.receive(message);
    await vi.waitFor(() => expect(seen).toHaveLength(1000));
    expect(seen).toEqual(sent);
    expect(maxRunning).toBe(1);
  });

  it("keeps messages that arrive while a queued message is handled in order", async () => {
    const gates = [deferred(), deferred()];
    class Slow extends RecordingHandler {
      override async onMessage(message: Message): Promise<void> {
        super.onMessage(message);
        if (message === "a") await gates[0]!.promise;
        if (message === "b") await gates[1]!.promise;
      }
    }
    const { connection, handler } = opened(new Slow());
    connection.receive("a");
    connection.receive("b");
    gates[0]!.resolve();
    await flush();
    connection.receive("c");
    gates[1]!.resolve();
    await flush();
    expect(handler.log).toEqual(["open {}", "message a", "message b", "message c"]);
  });

  it("reports a throwing onMessage to onError and closes with 1011", () => {
    class Throws extends RecordingHandler {
      override onMessage(): void {
        throw new Error("bad message");
      }
    }
    const { connection, transport, handler } = opened(new Throws());
    connection.receive("x");
    expect(handler.log).toEqual(["open {}", "error bad message"]);
    expect(transport.closes).toEqual([[1011, "internal error"]]);
    expect(connection.readyState).toBe(ReadyState.CLOSING);
  });

  it("reports a rejecting onMessage to onError, closes with 1011 and drops the queued messages", async () => {
    class Rejects extends RecordingHandler {
      override async onMessage(message: Message): Promise<void> {
        super.onMessage(message);
        await Promise.resolve();
        throw new Error("bad async message");
      }
    }
    const { connection, transport, handler } = opened(new Rejects());
    connection.receive("x");
    connection.receive("y");
    await flush();
    expect(handler.log).toEqual(["open {}", "message x", "error bad async message"]);
    expect(transport.closes).toEqual([[1011, "internal error"]]);
  });

  it("closes with 1009 on text one byte over maxMessageSize, without calling onMessage", () => {
    const { connection, transport, handler } = opened(new RecordingHandler(), { maxMessageSize: 4 });
    connection.receive("12345");
    expect(transport.closes).toEqual([[1009, "message too big"]]);
    expect(handler.log).toEqual(["open {}"]);
  });

  it("closes with 1009 on text over maxMessageSize counted in UTF-8", () => {
    const { connection, transport } = opened(new RecordingHandler(), { maxMessageSize: 4 });
    connection.receive("ééé");
    expect(transport.closes).toEqual([[CloseCode.MESSAGE_TOO_BIG, "message too big"]]);
  });

  it("closes with 1009 on binary one byte over maxMessageSize, without calling onMessage", () => {
    const { connection, transport, handler } = opened(new RecordingHandler(), { maxMessageSize: 4 });
    connection.receive(new ArrayBuffer(5));
    expect(transport.closes).toEqual([[1009, "message too big"]]);
    expect(handler.log).toEqual(["open {}"]);
  });

  it("passes text and binary exactly at maxMessageSize", () => {
    const { connection, transport, handler } = opened(new RecordingHandler(), { maxMessageSize: 4 });
    connection.receive("1234");
    connection.receive("éé");
    connection.receive(new ArrayBuffer(4));
    expect(transport.closes).toEqual([]);
    expect(handler.log).toEqual(["open {}", "message 1234", "message éé", "message <4 bytes>"]);
  });

  it("drops messages once the handler has closed", () => {
    const { connection, handler } = opened(new RecordingHandler());
    handler.close();
    connection.receive("after close");
    expect(handler.log).toEqual(["open {}"]);
  });

  it("drops messages once the socket has closed", () => {
    const { connection, handler } = opened(new RecordingHandler());
    connection.closed(1000, "");
    connection.receive("after closed");
    expect(handler.log).toEqual(["open {}", "close 1000"]);
  });

  it("drops queued messages when the handler closes during an async hook", async () => {
    const gate = deferred();
    class ClosesWhileBusy extends RecordingHandler {
      override async onMessage(message: Message): Promise<void> {
        super.onMessage(message);
        await gate.promise;
      }
    }
    const { connection, handler } = opened(new ClosesWhileBusy());
    connection.receive("a");
    connection.receive("b");
    handler.close();
    gate.resolve();
    await flush();
    expect(handler.log).toEqual(["open {}", "message a"]);
  });
});

describe("#closed", () => {
  it("runs onClose with the code and reason the runtime reports", () => {
    const { connection, handler } = opened(new RecordingHandler());
    connection.closed(4000, "bye");
    expect(handler.log).toEqual(["open {}", "close 4000 bye"]);
  });

  it("runs onClose exactly once when reported twice", () => {
    const { connection, handler } = opened(new RecordingHandler());
    connection.closed(1000, "first");
    connection.closed(1006, "second");
    expect(handler.log).toEqual(["open {}", "close 1000 first"]);
  });

  it("runs onClose after an async onMessage settles, with the code reported meanwhile", async () => {
    const gate = deferred();
    class Slow extends RecordingHandler {
      override async onMessage(message: Message): Promise<void> {
        super.onMessage(message);
        await gate.promise;
        this.log.push("message settled");
      }
    }
    const { connection, handler } = opened(new Slow());
    connection.receive("a");
    connection.closed(1001, "going");
    connection.closed(1006, "");
    await flush();
    expect(handler.log).toEqual(["open {}", "message a"]);
    gate.resolve();
    await flush();
    expect(handler.log).toEqual(["open {}", "message a", "message settled", "close 1001 going"]);
  });

  it("runs onClose after an async open settles, and handles no queued message", async () => {
    const gate = deferred();
    class SlowOpen extends RecordingHandler {
      override async open(): Promise<void> {
        await gate.promise;
        this.log.push("open settled");
      }
    }
    const { connection, handler } = opened(new SlowOpen());
    connection.receive("queued");
    connection.closed(1000, "");
    gate.resolve();
    await flush();
    expect(handler.log).toEqual(["open settled", "close 1000"]);
  });

  it("runs onClose once, after onError, when the running hook rejects", async () => {
    const gate = deferred();
    class Rejects extends RecordingHandler {
      override onMessage(): Promise<void> {
        return gate.promise;
      }
    }
    const { connection, handler } = opened(new Rejects());
    connection.receive("a");
    connection.closed(1006, "");
    gate.reject(new Error("late"));
    await flush();
    expect(handler.log).toEqual(["open {}", "error late", "close 1006"]);
  });

  it("never runs onClose when the connection never opened", () => {
    const { connection, handler } = setup(new RecordingHandler());
    const listener = vi.fn();
    connection.onceClosed(listener);
    connection.closed(1006, "");
    expect(handler.log).toEqual([]);
    expect(listener).not.toHaveBeenCalled();
  });

  it("calls onClosed after onClose", () => {
    const { connection, handler } = opened(new RecordingHandler());
    connection.onceClosed((c) => handler.log.push(`onClosed ${c === connection}`));
    connection.closed(1000, "");
    expect(handler.log).toEqual(["open {}", "close 1000", "onClosed true"]);
  });

  it("reports a throwing onClose to onError and still calls onClosed", () => {
    class Throws extends RecordingHandler {
      override onClose(): void {
        throw new Error("close failed");
      }
    }
    const { connection, handler } = opened(new Throws());
    const listener = vi.fn();
    connection.onceClosed(listener);
    connection.closed(1000, "");
    expect(handler.log).toEqual(["open {}", "error close failed"]);
    expect(listener).toHaveBeenCalledOnce();
  });

  it("reports a rejecting onClose to onError", async () => {
    class Rejects extends RecordingHandler {
      override async onClose(): Promise<void> {
        throw new Error("async close failed");
      }
    }
    const { connection, handler } = opened(new Rejects());
    connection.closed(1000, "");
    await flush();
    expect(handler.log).toEqual(["open {}", "error async close failed"]);
  });

  // uWebSockets' end() reports the close synchronously from close(): onClose must still wait for the hook.
  it("runs onClose after a sync onMessage returns when the transport reports its close synchronously", () => {
    class ClosesInline extends RecordingHandler {
      override onMessage(message: Message): void {
        super.onMessage(message);
        this.close(1000, "done");
        this.log.push("after close()");
      }
    }
    const { connection, handler } = setup(new ClosesInline());
    const transport = new FakeTransport();
    transport.close = (code, reason) => connection.closed(code!, reason!);
    connection.open(transport);
    connection.receive("a");
    expect(handler.log).toEqual(["open {}", "message a", "after close()", "close 1000 done"]);
  });
});

describe("#send", () => {
  it("passes the data to the transport while open", () => {
    const { connection, transport } = opened(new RecordingHandler());
    const bytes = new Uint8Array([1]);
    connection.send("text");
    connection.send(bytes);
    expect(transport.sent).toEqual(["text", bytes]);
  });

  it("throws WebSocketClosedError before open", () => {
    const { connection } = setup(new RecordingHandler());
    expect(() => connection.send("x")).toThrow(WebSocketClosedError);
  });

  it("throws WebSocketClosedError while closing", () => {
    const { connection, transport } = opened(new RecordingHandler());
    connection.close();
    expect(() => connection.send("x")).toThrow(WebSocketClosedError);
    expect(transport.sent).toEqual([]);
  });

  it("throws WebSocketClosedError once closed", () => {
    const { connection, transport } = opened(new RecordingHandler());
    connection.closed(1000, "");
    expect(() => connection.send("x")).toThrow(new WebSocketClosedError());
    expect(transport.sent).toEqual([]);
  });
});

describe("#close", () => {
  it("closes the transport with 1000 and no reason by default", () => {
    const { connection, transport } = opened(new RecordingHandler());
    connection.close();
    expect(transport.closes).toEqual([[1000, ""]]);
  });

  it("closes the transport with the code and reason given", () => {
    const { connection, transport } = opened(new RecordingHandler());
    connection.close(4001, "kicked");
    expect(transport.closes).toEqual([[4001, "kicked"]]);
  });

  it("waits for the runtime's report before running onClose", () => {
    const { connection, handler } = opened(new RecordingHandler());
    connection.close();
    expect(handler.log).toEqual(["open {}"]);
    connection.closed(1000, "");
    expect(handler.log).toEqual(["open {}", "close 1000"]);
  });

  it("closes the transport only once when called twice", () => {
    const { connection, transport } = opened(new RecordingHandler());
    connection.close(1000, "first");
    connection.close(1001, "second");
    expect(transport.closes).toEqual([[1000, "first"]]);
  });

  it("does nothing before open", () => {
    const { connection, transport } = setup(new RecordingHandler());
    connection.close();
    expect(connection.readyState).toBe(ReadyState.CONNECTING);
    expect(transport.closes).toEqual([]);
  });

  it.each([1005, 1006, 999, 5000])("throws a RangeError for code %i, in every state", (code) => {
    const { connection, transport } = setup(new RecordingHandler());
    expect(() => connection.close(code)).toThrow(RangeError);
    connection.open(transport);
    expect(() => connection.close(code)).toThrow(RangeError);
    connection.closed(1000, "");
    expect(() => connection.close(code)).toThrow(RangeError);
    expect(transport.closes).toEqual([]);
  });

  it("throws a RangeError for a reason over 123 bytes and stays open", () => {
    const { connection, transport } = opened(new RecordingHandler());
    expect(() => connection.close(1000, "x".repeat(124))).toThrow(RangeError);
    expect(connection.readyState).toBe(ReadyState.OPEN);
    expect(transport.closes).toEqual([]);
  });

  it("reports a throwing transport close to onError", () => {
    const { connection, transport, handler } = setup(new RecordingHandler());
    transport.close = () => {
      throw new Error("socket gone");
    };
    connection.open(transport);
    connection.close();
    expect(handler.log).toEqual(["open {}", "error socket gone"]);
    expect(connection.readyState).toBe(ReadyState.CLOSING);
  });
});

describe("#fail", () => {
  it("reports the error to onError, then closes with 1011", () => {
    const { connection, transport, handler } = opened(new RecordingHandler());
    const error = new Error("oops");
    connection.fail(error);
    expect(handler.errors).toEqual([error]);
    expect(transport.closes).toEqual([[1011, "internal error"]]);
  });

  it("logs both errors and still closes when onError throws", () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    class BadOnError extends RecordingHandler {
      override onError(): void {
        throw new Error("second");
      }
    }
    const { connection, transport } = opened(new BadOnError());
    const first = new Error("first");
    connection.fail(first);
    expect(logged).toHaveBeenCalledWith("edgesocket: onError threw while reporting", first, new Error("second"));
    expect(transport.closes).toEqual([[1011, "internal error"]]);
  });

  it("reports the error without closing again once closing", () => {
    const { connection, transport, handler } = opened(new RecordingHandler());
    connection.close();
    connection.fail(new Error("late"));
    expect(handler.log).toEqual(["open {}", "error late"]);
    expect(transport.closes).toEqual([[1000, ""]]);
  });
});

describe(".restore", () => {
  it("opens a rebuilt connection without running open, with the saved protocol, params and state", () => {
    const handler = new RecordingHandler();
    const runtime = new Runtime({ upgrade: () => new Response(null) });
    const transport = new FakeTransport();
    const saved = { protocol: "chat", params: { room: "a" }, state: { name: "ann" } };
    const connection = Connection.restore(handler, resolveOptions(), runtime, saved, transport);
    expect(connection.readyState).toBe(ReadyState.OPEN);
    expect([handler[CONNECTION], connection.protocol, connection.params, connection.state]).toEqual([
      connection,
      "chat",
      { room: "a" },
      { name: "ann" },
    ]);
    expect(Object.isFrozen(connection.params)).toBe(true);
    const none = Connection.restore(
      new RecordingHandler(),
      resolveOptions(),
      runtime,
      { ...saved, params: {} },
      transport,
    );
    expect(none.params).toBe(new Connection(new RecordingHandler(), resolveOptions(), undefined).params); // the one empty object
    none.closed(1000, "");
    expect(runtime.connections.size).toBe(1);
    connection.open(transport); // ignored: already open
    connection.receive("after waking");
    connection.closed(1000, "");
    expect(handler.log).toEqual(["message after waking", "close 1000"]);
    expect(runtime.connections.size).toBe(0);
  });
});

describe("#deliver", () => {
  it("sends a publication, and swallows the error of a socket that is going away", () => {
    const { connection, transport } = opened(new RecordingHandler());
    connection.deliver("news");
    transport.send = () => {
      throw new Error("socket closing");
    };
    expect(() => connection.deliver("lost")).not.toThrow();
    expect(transport.sent).toEqual(["news"]);
  });
});

describe("#terminate", () => {
  it("reports a transport that throws while terminating to onError; onClose still runs on the close event", () => {
    const { connection, transport, handler } = opened(new RecordingHandler());
    const terminating = Object.assign(transport, {
      terminate() {
        throw new Error("already gone");
      },
    });
    connection.terminate();
    expect(terminating).toBe(transport);
    connection.closed(1006, "");
    expect(handler.log).toEqual(["open {}", "error already gone", "close 1006"]);
  });
});
