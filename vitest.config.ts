import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Conformance files each drive a real runtime; two at a time fit two cores.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    reporters: ["default", ["json", { outputFile: "test-results/results.json" }]],
    // `npm run coverage`: the core's unit tests alone (adapters are covered by the conformance suite, out of process).
    coverage: {
      include: ["src/core/**", "src/testing.ts"],
      reporter: ["text"],
      reportsDirectory: "test-results/coverage",
      // Measured 2026-12-02 on the per-server core: src/core 100% lines, 98.09% branches, 99.31% functions; with
      // src/testing.ts 100% lines, 97.71% branches, 99.43% functions, 99.66% statements. Below these fails.
      thresholds: {
        lines: 99.5,
        branches: 97.5,
        functions: 99,
        statements: 99.5,
        "src/core/**": { lines: 99.5, branches: 97.5 },
      },
    },
  },
});
