/**
 * JSON messages checked by any Standard Schema validator (valibot, zod, arktype, ...): one small function
 * that uses only the `~standard.validate` interface, so edgesocket depends on no validator.
 * @module
 */
import { CloseCode } from "./constants.ts";
import type { Message } from "./message.ts";

/**
 * The Standard Schema interface (https://standardschema.dev), version 1: the part edgesocket uses.
 * Every valibot, zod (3.24+) or arktype schema satisfies it.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The validator's side of the interface. */
  readonly "~standard": {
    /** Always 1. */
    readonly version: 1;
    /** The library that made the schema, e.g. `"valibot"`. */
    readonly vendor: string;
    /** Checks `value`: the typed value, or the issues found. */
    readonly validate: (
      value: unknown,
    ) => StandardSchemaV1.Result<Output> | Promise<StandardSchemaV1.Result<Output>>;
    /** Only for type inference. */
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** The types of the Standard Schema interface. */
export declare namespace StandardSchemaV1 {
  /** What `validate` returns. */
  export type Result<Output> = { readonly value: Output; readonly issues?: undefined } | {
    readonly issues: readonly Issue[];
  };
  /** One problem found in the value. */
  export interface Issue {
    /** What is wrong, in words. */
    readonly message: string;
    /** Where: the keys from the root of the value to the bad part. */
    readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
  }
  /** The type a schema outputs. */
  export type InferOutput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["output"];
}

/**
 * A message that is not the JSON the schema asks for. `message` says what is wrong, ready to send back;
 * `code` is the close code for a connection that closes on it: 1003 for a binary message, 1007 otherwise.
 */
export class InvalidMessageError extends Error {
  /** Always `"InvalidMessageError"`. */
  override name = "InvalidMessageError";
  /** Made by {@link parseMessage}. */
  constructor(
    message: string,
    /** The close code that fits the problem: 1003 (binary, not text) or 1007 (not valid JSON, or not the schema). */
    readonly code: number,
    /** The validator's issues; empty when the message was not JSON at all. */
    readonly issues: readonly StandardSchemaV1.Issue[] = [],
  ) {
    super(message);
  }
}

/**
 * Parses a text message as JSON and validates it with `schema`. Resolves to the schema's output; rejects with an
 * {@link InvalidMessageError} whose message names each problem and where it is (`"text: Invalid type..."`).
 *
 * @example
 * ```ts
 * const Say = v.object({ type: v.literal("say"), text: v.pipe(v.string(), v.maxLength(500)) });
 * async onMessage(message: Message) {
 *   const say = await parseMessage(Say, message); // typed { type: "say"; text: string }
 * }
 * ```
 */
export async function parseMessage<S extends StandardSchemaV1>(
  schema: S,
  message: Message,
): Promise<StandardSchemaV1.InferOutput<S>> {
  if (typeof message !== "string") {
    throw new InvalidMessageError("expected a JSON text message, got a binary one", CloseCode.UNSUPPORTED_DATA);
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    throw new InvalidMessageError("the message is not valid JSON", CloseCode.INVALID_PAYLOAD);
  }
  const result = await schema["~standard"].validate(value);
  if (result.issues) {
    const problems = result.issues.map((issue) => {
      const path = issue.path?.map((key) => String(typeof key === "object" ? key.key : key)).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    throw new InvalidMessageError(problems.join("; "), CloseCode.INVALID_PAYLOAD, result.issues);
  }
  return result.value;
}
