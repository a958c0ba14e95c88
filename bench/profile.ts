// bench/profile: where the CPU-seconds of one tenant change go, per group of processes (the CLI and
// engine, the docker plugin, the dynamic provider host, this process, Docker, the containers), for
// a new tenant's `up`, an `up` with nothing to change, a preview with nothing to change, a preview
// of a plan change, and a destroy. Each figure is the median of --runs runs on the local platform
// (container runtime, real engine, Odoo stand-in). The README keeps the latest table.
// Run: npm run bench:profile [-- --runs 3]
import { median, numberArg } from "./stats";
import { ProcessCpuProfile, type ProfileResult } from "./process-cpu";
import { startPlatform, sweepTenants } from "../test/e2e/platform";

const RUNS = numberArg("runs", 3);
const OPERATIONS = [
  "new tenant up",
  "no-change up",
  "no-change preview",
  "plan-change preview",
  "destroy",
] as const;
type Operation = (typeof OPERATIONS)[number];

/** As the API gives it: the spec says where the tenant's databases are. */
const spec = (id: string, plan = "trial") => ({
  tenantId: id,
  customerId: `${id}-corp`,
  plan,
  odooVersion: "17",
  adminEmail: `owner@${id}.example`,
  databases: { serving: "shared", kept: [] },
});

async function main() {
  const ids = Array.from({ length: RUNS + 1 }, (_, n) => `prof-${n}`);
  const p = await startPlatform("container", "e2eb", { tenants: ids });
  const results = new Map<Operation, ProfileResult[]>(OPERATIONS.map((o) => [o, []]));
  const profile = new ProcessCpuProfile();
  const measure = async (op: Operation, work: () => Promise<unknown>) => {
    profile.begin();
    await work();
    results.get(op)!.push(profile.end());
  };
  try {
    // The first run of a process pays for loading code and plugins from disk: not counted.
    await p.tenants.up(spec(ids[RUNS]));
    await p.tenants.destroy(ids[RUNS]);
    for (const id of ids.slice(0, RUNS)) {
      await measure("new tenant up", () => p.tenants.up(spec(id)));
      await measure("no-change up", () => p.tenants.up(spec(id)));
      await measure("no-change preview", () => p.tenants.preview(spec(id)));
      await measure("plan-change preview", () => p.tenants.preview(spec(id, "basic")));
      await measure("destroy", () => p.tenants.destroy(id));
    }
    report(results);
  } finally {
    await sweepTenants(ids);
    await p.teardown();
  }
}

function report(results: Map<Operation, ProfileResult[]>) {
  const cell = (op: Operation, pick: (r: ProfileResult) => number) =>
    median(results.get(op)!.map(pick)).toFixed(2);
  const groups = [...new Set([...results.values()].flat().flatMap((r) => Object.keys(r.groups)))];
  const rows: [string, (r: ProfileResult) => number][] = [
    ["wall time (s)", (r) => r.wallSeconds],
    ...groups.map((g): [string, (r: ProfileResult) => number] => [g, (r) => r.groups[g] ?? 0]),
    ["unattributed (short-lived processes, kernel)", (r) => r.unattributed],
    ["whole machine", (r) => r.machineSeconds],
  ];
  console.log(
    `# bench/profile: CPU-seconds per operation, medians of ${RUNS}, ${results.get(OPERATIONS[0])![0].cores} cores`,
  );
  console.log(`| | ${OPERATIONS.join(" | ")} |`);
  console.log(`| --- |${OPERATIONS.map(() => " ---: |").join("")}`);
  for (const [name, pick] of rows)
    console.log(`| ${name} | ${OPERATIONS.map((op) => cell(op, pick)).join(" | ")} |`);
  for (const op of OPERATIONS) {
    const runs = results.get(op)![0].cliRuns;
    console.log(
      `CLI runs, ${op}: ${Object.entries(runs)
        .map(([c, n]) => `${c} ×${n}`)
        .join(", ")}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
