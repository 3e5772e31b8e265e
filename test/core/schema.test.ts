import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../src/core/constants.ts";
import { InvalidMessageError, parseMessage, type StandardSchemaV1 } from "../../src/core/schema.ts";

const Say = v.object({ type: v.literal("say"), text: v.pipe(v.string(), v.maxLength(5)) });

async function rejection(promise: Promise<unknown>): Promise<InvalidMessageError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidMessageError);
  return error as InvalidMessageError;
}

describe("parseMessage", () => {
  it("resolves to the schema's output for valid JSON text", async () => {
    const say = await parseMessage(Say, '{"type":"say","text":"hi","extra":1}');
    expect(say).toEqual({ type: "say", text: "hi" });
  });

  it("rejects text that is not JSON with 1007 and says so", async () => {
    const error = await rejection(parseMessage(Say, "{not json"));
    expect(error.message).toBe("the message is not valid JSON");
    expect(error.code).toBe(CloseCode.INVALID_PAYLOAD);
    expect(error.issues).toEqual([]);
  });

  it("rejects JSON the schema refuses with 1007, naming each problem and its path", async () => {
    const error = await rejection(parseMessage(Say, '{"type":"say","text":"far too long"}'));
    expect(error.code).toBe(CloseCode.INVALID_PAYLOAD);
    expect(error.message).toMatch(/^text: Invalid length: Expected <=5 but received 12$/);
    expect(error.issues).toHaveLength(1);
  });

  it("joins several problems with '; ' (1/2)", async () => {
    const error = await rejection(parseMessage(Say, '{"type":"shout","text":7}'));
    expect(error.message.split("; ")).toEqual([
      expect.stringMatching(/^type: /),
      expect.stringMatching(/^text: /),
    ]);
  });

  it("reports a problem at the root without a path (2/2)", async () => {
    const error = await rejection(parseMessage(Say, "7"));
    expect(error.message).toMatch(/^Invalid type: Expected Object but received 7$/);
  });

  it("rejects a binary message with 1003 (unsupported data)", async () => {
    const error = await rejection(parseMessage(Say, new TextEncoder().encode('{"type":"say"}').buffer));
    expect(error.message).toBe("expected a JSON text message, got a binary one");
    expect(error.code).toBe(CloseCode.UNSUPPORTED_DATA);
  });

  it("awaits an async schema", async () => {
    const Name = v.pipeAsync(v.string(), v.checkAsync(async (name) => name !== "taken", "that name is taken"));
    expect(await parseMessage(Name, '"free"')).toBe("free");
    expect((await rejection(parseMessage(Name, '"taken"'))).message).toBe("that name is taken");
  });

  it("works with any object implementing ~standard.validate, including path segments given as { key }", async () => {
    const positive: StandardSchemaV1<unknown, number> = {
      "~standard": {
        version: 1,
        vendor: "hand-written",
        validate: (value) =>
          typeof value === "number" && value > 0
            ? { value }
            : { issues: [{ message: "must be positive", path: [{ key: "n" }, 0] }] },
      },
    };
    expect(await parseMessage(positive, "3")).toBe(3);
    expect((await rejection(parseMessage(positive, "-3"))).message).toBe("n.0: must be positive");
  });
});
