// Checks every Markdown link of README.md and docs/: a relative target must exist, and an anchor
// must name a heading of its page (GitHub's slugs). A file of this repository named in code
// (`api/main.ts`) must exist too: pages name files more often than they link them.
// Exits 1 listing the broken ones.
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const pages = [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .replace(/\s/g, "-");

function anchors(file) {
  let fenced = false;
  const found = new Set();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = !fenced && line.match(/^#{1,6} (.*)$/);
    if (m) found.add(slug(m[1]));
  }
  return found;
}

/** The repository's top-level folders: a backticked path under one of them names our file. */
const folders = fs
  .readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith(".") && d.name !== "node_modules")
  .map((d) => d.name);
const filePath = new RegExp(`\`((?:${folders.join("|")})/[\\w./-]*\\.[a-z]+)\``, "g");

const broken = [];
for (const page of pages) {
  const file = path.join(root, page);
  let fenced = false;
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.startsWith("```")) fenced = !fenced;
      if (fenced) return;
      for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target)) continue;
        const [where, anchor] = target.split("#");
        const resolved = where ? path.resolve(path.dirname(file), where) : file;
        if (!fs.existsSync(resolved)) broken.push(`${page}:${i + 1}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith(".md") && !anchors(resolved).has(anchor))
          broken.push(`${page}:${i + 1}: ${target} (no such heading)`);
      }
      for (const [, named] of line.matchAll(filePath))
        if (!named.includes("*") && !fs.existsSync(path.join(root, named)))
          broken.push(`${page}:${i + 1}: ${named} (no such file in the repository)`);
    });
}
for (const b of broken) console.error(`[links] broken: ${b}`);
if (broken.length) process.exit(1);
console.error(`[links] ${pages.length} pages, every link resolves`);
