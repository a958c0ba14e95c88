/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "<rootDir>/test/environment.cjs",
  roots: ["<rootDir>"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  // The suites wait on engines, Kill Bill and timers more than they compute: three workers keep
  // two cores busy (a whole run: 28 min, against about 37 with two). Timing assertions compare
  // with a floor measured alongside, or with a margin a loaded machine keeps.
  maxWorkers: 3,
  testTimeout: 120000,
  testSequencer: "<rootDir>/test/suite-order.cjs",
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
};
