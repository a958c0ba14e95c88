// Dependencies point one way: every relative import of the project's source (tests, benchmarks
// and scripts aside) is read, and an import from a folder to one above it in the layering fails
// here, at the top level and inside the API.
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

/** Top to bottom: a folder may import only from folders after it. */
const TOP = ["cli", "api", "automation", "stacks", "components", ["catalog", "backup"]];
const API = [
  "api",
  "api/routes",
  "api/services",
  "api/mail",
  ["api/killbill", "api/store", "api/jobs"],
  "api/common",
  "api/domain",
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory())
      return ["node_modules", "test", "bench", ".git"].includes(e.name) ? [] : sources(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** Every relative import of the project's source files: [from, to], repo-relative. */
function imports(): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of sources(ROOT)) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:import|export)\b[^'"]*?from\s+["'](\.[^'"]+)["']/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      const resolved = [`${target}.ts`, path.join(target, "index.ts")].find((f) =>
        fs.existsSync(f),
      );
      if (resolved) edges.push([path.relative(ROOT, file), path.relative(ROOT, resolved)]);
    }
  }
  return edges;
}

/** The layer a file belongs to (the most specific folder named in the layering). */
function layerOf(file: string, layers: (string | string[])[]): number {
  const dir = path.dirname(file);
  let best = -1;
  let depth = -1;
  layers.forEach((layer, i) => {
    for (const folder of ([] as string[]).concat(layer))
      if ((dir === folder || dir.startsWith(`${folder}/`)) && folder.length > depth) {
        best = i;
        depth = folder.length;
      }
  });
  return best;
}

function upward(layers: (string | string[])[], within?: string): string[] {
  return imports()
    .filter(([from, to]) => !within || (from.startsWith(within) && to.startsWith(within)))
    .filter(([from, to]) => {
      const a = layerOf(from, layers);
      const b = layerOf(to, layers);
      return a >= 0 && b >= 0 && b < a;
    })
    .map(([from, to]) => `${from} -> ${to}`);
}

describe("dependencies point one way", () => {
  it("between top-level folders: cli -> api -> automation -> stacks -> components -> catalog, backup", () => {
    expect(upward(TOP)).toEqual([]);
  });

  it("inside the API: composition -> routes -> services -> mail -> killbill, store, jobs -> common -> domain", () => {
    expect(upward(API, "api/")).toEqual([]);
  });

  it("finds an upward import when there is one (the check itself works)", () => {
    expect(layerOf("api/store/tenant-store.ts", API)).toBeGreaterThan(
      layerOf("api/services/x.ts", API),
    );
    expect(layerOf("stacks/tenant/program.ts", TOP)).toBe(3);
    expect(imports().some(([from]) => from === "api/runtime.ts")).toBe(true);
  });
});
