/**
 * The documentation: README.md (a front door of at most 250 lines) and the reference in docs/*.md. Every relative
 * link and anchor resolves, every page of docs/ is linked from the README, and every TypeScript block type-checks
 * with tsc against the built package (`npm run build`, which `npm test` runs first), imported by its npm name as a
 * user's module would import it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { run } from "../checks/run.ts";
import { ROOT } from "../helpers/runtimes.ts";

const README_MAX_LINES = 250;

/** The pages: README.md and every markdown file directly in docs/ (docs/api/ is generated, not a page). */
const PAGES = ["README.md"].concat(
  readdirSync(join(ROOT, "docs")).filter((file) => file.endsWith(".md")).sort().map((file) => `docs/${file}`),
);

const FENCE = /^```([^\n]*)\n([\s\S]*?)^```$/gm;

interface CodeBlock {
  /** The info string after the opening fence, e.g. `ts`. */
  info: string;
  code: string;
  /** The line of the opening fence, from 1. */
  line: number;
}

function read(page: string): string {
  return readFileSync(join(ROOT, page), "utf8");
}

function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(FENCE)].map((match) => ({
    info: match[1]!.trim(),
    code: match[2]!,
    line: markdown.slice(0, match.index).split("\n").length,
  }));
}

/** The page's prose: fenced blocks and inline code spans blanked out, so that code is never read as a link. */
function prose(markdown: string): string {
  return markdown.replace(FENCE, "").replace(/`[^`\n]*`/g, "``");
}

/** The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of markdown.replace(FENCE, "").matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const slug = heading!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** The relative links and images of a page: `[text](target)`, `![alt](target)`, without web addresses. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?: "[^"]*")?\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}

/** What is wrong with `target`, linked from `page`: a missing file or a missing anchor; `undefined` if it resolves. */
function brokenLink(page: string, target: string): string | undefined {
  const [path = "", anchor] = target.split("#");
  const file = path === "" ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURIComponent(path));
  if (!existsSync(file)) return `${page}: ${target}: no such file`;
  if (anchor === undefined || !file.endsWith(".md")) return undefined;
  if (!anchors(readFileSync(file, "utf8")).has(anchor)) return `${page}: ${target}: no such heading`;
  return undefined;
}

/** The entries only JSR has (`edgesocket/deno`), as deno.json's imports map them: npm's exports have the rest. */
function denoOnlyEntries(): Record<string, string[]> {
  const json = (file: string) => JSON.parse(read(file).replace(/^\s*\/\/.*$/gm, ""));
  const npm = Object.keys(json("package.json").exports).map((entry) => join("edgesocket", entry));
  const deno = Object.entries<string>(json("deno.json").imports).filter(([name]) => name.startsWith("edgesocket"));
  return Object.fromEntries(deno.filter(([name]) => !npm.includes(name)).map(([name, to]) => [name, [join(ROOT, to)]]));
}

describe("README.md and docs/", () => {
  test(`the README is a front door: at most ${README_MAX_LINES} lines`, () => {
    const lines = read("README.md").split("\n").length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  test("the README links every page of docs/", () => {
    const linked = new Set(relativeLinks(read("README.md")).map((target) => target.split("#")[0]));
    expect(PAGES.filter((page) => page !== "README.md" && !linked.has(page))).toEqual([]);
  });

  test("every relative link and anchor in README.md and docs/*.md resolves", () => {
    const links = PAGES.flatMap((page) => relativeLinks(read(page)).map((target) => ({ page, target })));
    expect(links.length).toBeGreaterThan(PAGES.length);
    expect(links.map(({ page, target }) => brokenLink(page, target)).filter(Boolean)).toEqual([]);
  });

  describe("TypeScript blocks", () => {
    const work = join(ROOT, "test-results");
    mkdirSync(work, { recursive: true });
    // Inside the repository, so that `edgesocket/...` resolves to this package's own exports (dist/), by name.
    const dir = mkdtempSync(join(work, "doc-blocks-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("every ts block in README.md and docs/*.md type-checks against the built package", async () => {
      expect(existsSync(join(ROOT, "dist/src/index.d.ts")), "run `npm run build` first").toBe(true);
      const pageDirs: string[] = [];
      const files: string[] = [];
      for (const page of PAGES) {
        const pageDir = join(dir, page.replace(/[/.]/g, "-"));
        mkdirSync(pageDir);
        pageDirs.push(pageDir);
        for (const block of codeBlocks(read(page)).filter((b) => /^(ts|typescript)\b/.test(b.info))) {
          // `// chat.ts` on the first line names the block, so that the page's other blocks can import it.
          const name = block.code.match(/^\/\/ ([\w.-]+\.ts)\b/)?.[1] ?? `line-${block.line}.ts`;
          const file = join(pageDir, name);
          expect(existsSync(file), `${page}: two blocks named ${name}`).toBe(false);
          writeFileSync(file, block.code);
          files.push(file);
        }
      }
      expect(files.length).toBeGreaterThanOrEqual(PAGES.length);

      // Deno's globals (`Deno.test`) beside Node's, as the examples are checked (tsconfig.examples.json).
      const types = await run("deno", ["types"]);
      expect(types.code).toBe(0);
      writeFileSync(join(dir, "deno.d.ts"), types.stdout.replace(/^\/\/\/ <reference lib="deno\..*$/gm, ""));
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            lib: ["ES2022"],
            types: ["node"],
            typeRoots: [join(ROOT, "node_modules/@types")],
            strict: true,
            noImplicitOverride: true,
            allowImportingTsExtensions: true,
            skipLibCheck: true,
            noEmit: true,
            // A block's relative import finds the page's named blocks, then the examples (`./echo.ts`).
            rootDirs: [...pageDirs, join(ROOT, "examples")],
            paths: denoOnlyEntries(),
          },
          files: [join(dir, "deno.d.ts"), ...files],
        }),
      );
      const result = await run("tsc", ["-p", join(dir, "tsconfig.json")]);
      const output = (result.stdout + result.stderr).replaceAll(`${relative(ROOT, dir)}/`, "");
      expect(output).toBe("");
      expect(result.code).toBe(0);
    });
  });
});
