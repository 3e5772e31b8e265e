/** Runs a tool from node_modules/.bin in the repository and collects what it printed. */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { ROOT } from "../helpers/runtimes.ts";

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(tool: string, args: string[], options: { cwd?: string; timeout?: number } = {}): Promise<Ran> {
  // npm and tar from the PATH, Node itself, everything else from the project's own node_modules.
  const file = tool === "node"
    ? process.execPath
    : tool === "npm" || tool === "tar"
    ? tool
    : resolve(ROOT, "node_modules/.bin", tool);
  return new Promise((done) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd ?? ROOT,
        timeout: options.timeout ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: "1", WRANGLER_SEND_METRICS: "false", CI: "1" },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Drops Deno's warnings about the `@types/node` it finds in node_modules, which say nothing about this code. */
export function withoutTypeWarnings(output: string): string {
  return output.replace(/^Warning Failed resolving types\..*\n\s+at .*\n/gm, "");
}
