// make lint: the web client's JavaScript (browser ES modules, no build step).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.browser } },
    rules: { "no-unused-vars": ["error", { args: "none" }], eqeqeq: ["error", "always"], "prefer-const": "error" },
  },
  { files: ["eslint.config.js", "tests/js/**/*.mjs"], languageOptions: { sourceType: "module", globals: { ...globals.node } } },
];
