/**
 * A temporary wrangler configuration for a workerd fixture whose Durable Object bindings differ from the
 * repository's wrangler.toml, in a folder of its own (wrangler keeps its state, the objects' storage included,
 * beside its configuration).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WORKERS_COMPATIBILITY_DATE } from "./runtimes.ts";

/** A configuration file and the folder that holds it. */
export interface WranglerConfig {
  /** The file to pass as `startServer`'s `wranglerConfig`. */
  readonly file: string;
  /** Deletes the folder, and the objects' storage with it. */
  remove(): void;
}

/** Writes a configuration named `name` with SQLite-backed Durable Object `bindings` (binding name → class name). */
export function writeWranglerConfig(name: string, bindings: Record<string, string>): WranglerConfig {
  const folder = mkdtempSync(join(tmpdir(), `edgesocket-${name}-`));
  const file = join(folder, "wrangler.toml");
  writeFileSync(file, wranglerToml(name, bindings));
  return { file, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** The text of a configuration named `name` with SQLite-backed Durable Object `bindings` (none: a plain Worker). */
export function wranglerToml(name: string, bindings: Record<string, string>): string {
  const classes = Object.values(bindings);
  const objects = classes.length === 0 ? [] : [
    ...Object.entries(bindings).flatMap(([binding, className]) => [
      "",
      "[[durable_objects.bindings]]",
      `name = "${binding}"`,
      `class_name = "${className}"`,
    ]),
    "",
    "[[migrations]]",
    `tag = "v1"`,
    `new_sqlite_classes = [${classes.map((c) => `"${c}"`).join(", ")}]`,
  ];
  return [`name = "${name}"`, `compatibility_date = "${WORKERS_COMPATIBILITY_DATE}"`, ...objects, ""].join("\n");
}
