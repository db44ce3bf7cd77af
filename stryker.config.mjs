// Mutation testing of the pure core: the room machine and its interpreter,
// and the balancer. Only the pure tests run against the mutants (the whole
// suite needs databases and takes about twenty minutes), so every mutant
// here has to be killed by a test that reads SPEC.md, not by an integration
// run. `npm run mutate`; the report lands in .ci/out/mutation/.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: ["machines/**/*.ts", "src/balancer/**/*.ts"],
  // The pure tests only, chosen by their own vitest config rather than by
  // `testFiles`: with `testFiles` Stryker 10.1 activates a static mutant (one
  // evaluated when its module loads, like the machine's definition) after
  // the module has loaded, and reports it survived whatever the tests say.
  // `related`: a static mutant reruns only the test files that import its
  // file (the machine's ~280 static mutants skip the balancer's tests).
  vitest: { configFile: "test/vitest.pure.config.ts", related: true },
  coverageAnalysis: "perTest",
  concurrency: 2,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: ".ci/out/mutation/index.html" },
  jsonReporter: { fileName: ".ci/out/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  ignorePatterns: ["/.ci/out", "/data", "/bench/results", "/dist", "/docs"],
  thresholds: { high: 95, low: 90, break: 90 },
  // Stryker rewrites tsconfig paths that leave the sandbox with TypeScript's
  // JS API, which TypeScript 7 no longer has; ours has no such paths, so it
  // is pointed at no file and copied as it is.
  tsconfigFile: "tsconfig.none.json",
  tempDirName: ".stryker-tmp",
  cleanTempDir: true
}
