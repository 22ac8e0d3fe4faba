// vscode-tmgrammar-snap over Markdown files, with VS Code's Markdown grammar (from the tm-grammars
// package) as the host that vg.markdown.tmLanguage.json is injected into (package.json's injectTo).
// Arguments are passed on (globs, --updateSnapshot).
//
// The Markdown grammar embeds some 60 languages that are not installed here; vscode-textmate reports
// each one as "grammar not found". Those warnings are dropped, except for the grammars under test.
"use strict";

const markdown = require.resolve("tm-grammars/grammars/markdown.json");
const snap = require.resolve("vscode-tmgrammar-test/dist/snapshot.js");

const warn = console.warn;
console.warn = (...args) => {
  const m = typeof args[0] === "string" && /^grammar not found for "([^"]+)"/.exec(args[0]);
  if (m && !["source.vg", "markdown.vg.codeblock", "text.html.markdown"].includes(m[1])) {
    return;
  }
  warn(...args);
};

process.argv = [process.argv[0], snap, "-g", markdown, "-s", "text.html.markdown", ...process.argv.slice(2)];
require(snap);
