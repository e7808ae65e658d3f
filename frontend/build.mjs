// Build the code editor bundle into grader/static/grader/ (committed: a fresh clone serves it
// without node). Its banner names the hash of its inputs, so a test without node can tell
// that the committed bundle was built from the sources and lock beside it.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, copyFileSync } from "node:fs";

const INPUTS = ["code_editor.js", "build.mjs", "package-lock.json"];
const hash = createHash("sha256");
for (const name of INPUTS) hash.update(readFileSync(new URL(name, import.meta.url)));
const digest = hash.digest("hex");

await build({
  entryPoints: [new URL("code_editor.js", import.meta.url).pathname],
  outfile: new URL("../grader/static/grader/code_editor.min.js", import.meta.url).pathname,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  banner: { js: "/* CodeMirror 6 (MIT), built by frontend/build.mjs; inputs sha256 " + digest + " */" },
  logLevel: "info",
});
// axe-core for the browser tests' accessibility audit, vendored so `make test` needs no node.
copyFileSync(
  new URL("node_modules/axe-core/axe.min.js", import.meta.url),
  new URL("../tests/browser/vendor/axe.min.js", import.meta.url)
);
