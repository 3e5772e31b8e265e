/**
 * Incoming messages checked by any Standard Schema (valibot, zod, arktype, ...), as the server's `parseMessage`
 * does; written again here because the client imports nothing from the server.
 * @module
 */

/** A problem a schema found in a message. */
export interface SchemaIssue {
  /** What is wrong, in words. */
  readonly message: string;
  /** Where: the keys from the root of the message to the bad part. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
}

/** The part of the Standard Schema interface (https://standardschema.dev, v1) the client uses. */
export interface MessageSchema<Output = unknown> {
  /** The validator's side of the interface. */
  readonly "~standard": {
    /** Always 1. */
    readonly version: 1;
    /** The library that made the schema. */
    readonly vendor: string;
    /** Checks `value`: the typed value, or the issues found. */
    readonly validate: (value: unknown) => SchemaResult<Output> | Promise<SchemaResult<Output>>;
    /** Only for type inference. */
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/** What a schema's `validate` returns. */
export type SchemaResult<Output> = { readonly value: Output; readonly issues?: undefined } | {
  readonly issues: readonly SchemaIssue[];
};

/** A text message parsed as JSON and checked by `schema`; a binary message or bad JSON is an issue. */
export async function decode<T>(schema: MessageSchema<T>, data: unknown): Promise<SchemaResult<T>> {
  if (typeof data !== "string") return { issues: [{ message: "expected a JSON text message, got a binary one" }] };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { issues: [{ message: "the message is not valid JSON" }] };
  }
  return schema["~standard"].validate(value);
}
