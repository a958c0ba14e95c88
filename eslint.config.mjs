import js from "@eslint/js";
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
    // Tests inspect untyped documents (parsed XML, JSON bodies); stores map untyped pg rows.
    files: ["**/*.test.ts", "test/**/*.ts", "bench/**/*.ts", "api/store/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
