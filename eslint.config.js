// ESLint flat config for the browser scripts under bot/*/static (`make lint` runs `npx eslint bot`).
// They are classic <script>s (no modules, no bundler) that browsers run as they are, so each file is
// parsed at the language level it is written for: lint fails on syntax that would drop browsers.
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

// `catch (e) {}` with an unused binding is how ES5/ES2017 code swallows an error (`catch {}` is ES2019).
const keepCatchBindings = { "no-unused-vars": ["error", { caughtErrors: "none" }] };

module.exports = [
  js.configs.recommended,
  {
    files: ["bot/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: keepCatchBindings,
  },
  {
    // The widget is embedded on any agency's pages: ES5 syntax (it uses the URL and Promise APIs).
    files: ["bot/webchat/static/**/*.js"],
    languageOptions: { ecmaVersion: 5, globals: { Promise: "readonly" } },
  },
];
