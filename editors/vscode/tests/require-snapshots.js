// vscode-tmgrammar-snap writes a missing .snap and passes: make a missing (or orphaned) snapshot fail
// instead, so `npm test` never passes without comparing. Create new ones with `npm run snap:update`.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const inputs = { snap: ".vg", markdown: ".md" };
const problems = [];
for (const [dir, ext] of Object.entries(inputs)) {
  const root = path.join(__dirname, dir);
  const files = fs.readdirSync(root, { recursive: true }).map((f) => path.join(root, f));
  for (const file of files) {
    const rel = path.relative(path.join(__dirname, ".."), file);
    if (file.endsWith(ext) && !fs.existsSync(file + ".snap")) {
      problems.push(`no snapshot for ${rel} (run: npm run snap:update, and review the new .snap)`);
    }
    if (file.endsWith(".snap") && !fs.existsSync(file.slice(0, -".snap".length))) {
      problems.push(`snapshot without its input: ${rel}`);
    }
  }
}
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
