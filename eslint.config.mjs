import js from "@eslint/js";
import jest from "eslint-plugin-jest";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "coverage/", ".data/", "jest.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // Node scripts (the link check).
    files: ["scripts/**/*.mjs"],
    languageOptions: { globals: { console: "readonly", process: "readonly", URL: "readonly" } },
  },
  {
    // CommonJS modules jest loads itself (the suite order).
    files: ["**/*.cjs"],
    languageOptions: { globals: { require: "readonly", module: "writable" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // A test that is skipped, focused or left to do is not a test: none lands.
    files: ["**/*.test.ts", "test/**/*.ts"],
    plugins: { jest },
    rules: {
      "jest/no-disabled-tests": "error",
      "jest/no-focused-tests": "error",
      "jest/no-commented-out-tests": "error",
    },
  },
  {
    // Tests inspect untyped documents (parsed XML, JSON bodies); stores map untyped pg rows.
    files: ["**/*.test.ts", "test/**/*.ts", "bench/**/*.ts", "api/store/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
