// Our launcher of dynamic providers (providers/language-host/pulumi-resource-pulumi-nodejs) run as
// the engine runs it, by a parent process that is then SIGKILLed (a control plane crashed mid-run).
import { execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import { eventually } from "./api-harness";

const LAUNCHER = path.join(
  __dirname,
  "..",
  "providers",
  "language-host",
  "pulumi-resource-pulumi-nodejs",
);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const childrenOf = (pid: number) =>
  execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter(Boolean);

it("the provider and its launcher exit when the engine that started them is killed", async () => {
  // A stand-in engine: starts the launcher with an engine address, relays the provider's port.
  const engine = spawn(
    process.execPath,
    [
      "-e",
      `const c = require("node:child_process").spawn(${JSON.stringify(LAUNCHER)}, ["127.0.0.1:1"],
         { stdio: ["ignore", "pipe", "inherit"] });
       c.stdout.on("data", (d) => process.stdout.write(c.pid + " " + d));
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ["ignore", "pipe", "inherit"], cwd: path.join(__dirname, "..") },
  );
  const line = await new Promise<string>((resolve) =>
    engine.stdout.once("data", (d) => resolve(String(d))),
  );
  const [launcher, port] = line.trim().split(" ").map(Number);
  expect(port).toBeGreaterThan(0); // the provider listens: it really started
  const [provider] = childrenOf(launcher);
  expect(alive(provider)).toBe(true);

  engine.kill("SIGKILL");
  try {
    await eventually(async () => !alive(launcher) && !alive(provider), 10_000, "the pair to exit");
  } finally {
    for (const pid of [launcher, provider]) if (alive(pid)) process.kill(pid, "SIGKILL");
  }
}, 30_000);

it("the provider host loads what only programs need (TypeScript) on first use only", () => {
  const preload = path.join(path.dirname(LAUNCHER), "dynamic-provider-preload.cjs");
  const loaded = `Object.keys(require.cache).some((f) => /node_modules\\/typescript\\//.test(f))`;
  const script = `
    const runtime = require("@pulumi/pulumi/runtime");
    const before = ${loaded};
    runtime.serializeFunction(() => 42).then((f) => {
      console.log(JSON.stringify({ before, after: ${loaded}, text: f.text.includes("42") }));
    });`;
  const run = (args: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, [...args, "-e", script], {
        encoding: "utf8",
        cwd: path.join(__dirname, ".."),
      }),
    );
  // Without the preload, the SDK's runtime loads it at once (what the preload is for).
  expect(run([])).toMatchObject({ before: true });
  expect(run(["--require", preload])).toEqual({ before: false, after: true, text: true });
});
