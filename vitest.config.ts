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
    },
  },
});
