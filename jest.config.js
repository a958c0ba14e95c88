/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  // Real-engine and real-service suites spawn processes; keep parallelism within 2 cores.
  maxWorkers: 2,
  testTimeout: 120000,
  testSequencer: "<rootDir>/test/suite-order.cjs",
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
};
