// bench/fleet: the fleet commands at fleet size, on the real engine with the provider-free
// program (file:// state), all in one run:
//   - a full `fleet preview` of N stacks vs the fingerprinted one (nothing changed), the
//     fingerprints read from the store (a Map, as the store's one query gives) or from each
//     stack's outputs (the --specs path), and the no-op preview of 1,000 tenants extrapolated;
//   - a catalog change touching 10% of the fleet: the fingerprinted preview, vs changed x 1 s;
//   - the rollout of that change with --canary 5 --batch-size 20;
//   - a reconcile whose inputs are unchanged (the API, real PostgreSQL and Redis): the
//     operation's own time, next to an engine run's (the floor it saves).
// Run: npm run bench:fleet [-- --stacks 200 --concurrency 2]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { StackRunner, TenantStacks } from "../automation";
import { fleetPreview, fleetUp, type FleetSpec } from "../automation/fleet";
import { rollout, rolloutOrder } from "../automation/rollout";
import { RolloutJournal } from "../automation/rollout-journal";
import { loadCatalog } from "../catalog";
import { planData } from "../catalog/plans";
import { ApiHarness, asAdmin, eventually } from "../test/api-harness";
import { providerFreeTenantProgram, type StandInSpec } from "../test/provider-free-program";
import { fmt, median, numberArg, percentile } from "./stats";

const STACKS = numberArg("stacks", 200);
const CONCURRENCY = numberArg("concurrency", 2);
const SKIP_SAMPLES = numberArg("reconciles", 20);

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-fleet-"));
  const settings = {
    dataDir: root,
    backendUrl: `file://${root}/state`,
    passphrase: "bench-fleet-passphrase",
    platformStack: "organization/bench-platform/bench",
    maxConcurrentRuns: Math.max(4, CONCURRENCY),
  };
  const stacksWith = (catalog = loadCatalog()) =>
    new TenantStacks(
      new StackRunner(settings),
      (s) => providerFreeTenantProgram(s as StandInSpec, catalog),
      { catalog },
    );
  // One tenant in ten is on the standard plan: the plan the catalog change touches.
  const specs: FleetSpec[] = Array.from({ length: STACKS }, (_, n) => ({
    tenantId: `fleet-${String(n).padStart(4, "0")}`,
    customerId: "bench",
    plan: n % 10 === 0 ? "standard" : "basic",
    odooVersion: "17",
    adminEmail: "bench@example.com",
  }));
  const changedCount = specs.filter((s) => s.plan === "standard").length;
  console.log(
    `# bench/fleet: ${STACKS} tenant stacks, concurrency ${CONCURRENCY}, ${os.cpus().length} cores`,
  );

  // A platform stack to read, as the tenant fingerprints do (once per 30 s per process).
  await new StackRunner(settings).up({
    project: "bench-platform",
    stack: "bench",
    program: async () => ({
      tenantSettings: { runtime: "container", baseDomain: "bench.test" },
      postgresAdminPassword: pulumi.secret("bench-admin-password"),
    }),
  });
  const started = performance.now();
  const created = await fleetUp(stacksWith(), specs, { concurrency: 4 });
  if (created.some((r) => !r.ok)) throw new Error("setup failed");
  console.log(`setup: ${STACKS} stacks created in ${fmt(performance.now() - started)}`);
  const applied = new Map(
    created.map((r) => [r.tenantId, r.ok ? (r.value.outputs.inputsFingerprint as string) : ""]),
  );

  const timed = async <T>(work: () => Promise<T>) => {
    const t = performance.now();
    const value = await work();
    return { value, ms: performance.now() - t };
  };
  const preview = (stacks: TenantStacks, fromStore?: boolean, fromOutputs?: boolean) =>
    timed(() =>
      fleetPreview(stacks, specs, {
        concurrency: CONCURRENCY,
        applied: fromStore
          ? async (id) => applied.get(id)
          : fromOutputs
            ? (id) => stacks.appliedFingerprint(id)
            : undefined,
      }),
    );

  const full = await preview(stacksWith());
  const store = await preview(stacksWith(), true);
  const outputs = await preview(stacksWith(), false, true);
  const skipped = (r: typeof store) =>
    r.value.filter((x) => x.ok && x.value.skippedByFingerprint).length;
  console.log("\n## no-op fleet preview (nothing changed)");
  console.log(
    `full preview (--all):              ${fmt(full.ms)}  ${(full.ms / STACKS).toFixed(0)} ms/tenant (the floor)`,
  );
  console.log(
    `fingerprints from the store:       ${fmt(store.ms)}  ${(store.ms / STACKS).toFixed(1)} ms/tenant  ` +
      `${skipped(store)}/${STACKS} skipped  ${(full.ms / store.ms).toFixed(0)}x faster`,
  );
  console.log(
    `fingerprints from stack outputs:   ${fmt(outputs.ms)}  ${(outputs.ms / STACKS).toFixed(0)} ms/tenant  ` +
      `${skipped(outputs)}/${STACKS} skipped  ${(full.ms / outputs.ms).toFixed(1)}x faster (--specs file)`,
  );
  console.log(
    `1,000 tenants (extrapolated from ${STACKS} measured): store ${fmt((store.ms / STACKS) * 1000)}, ` +
      `outputs ${fmt((outputs.ms / STACKS) * 1000)}, full ${fmt((full.ms / STACKS) * 1000)} (target ≤ 60 s)`,
  );

  const data = JSON.parse(JSON.stringify(planData));
  data.find((p: { id: string }) => p.id === "standard").memoryMb += 1024;
  const changedCatalog = loadCatalog(data);
  const change = await preview(stacksWith(changedCatalog), true);
  const wouldChange = change.value.filter((x) => x.ok && x.value.changes.length > 0).length;
  console.log(`\n## a catalog change touching ${changedCount} of ${STACKS} tenants (10%)`);
  console.log(
    `fingerprinted preview: ${fmt(change.ms)}, ${wouldChange} would change, ${skipped(change)} skipped ` +
      `(target ≤ 15 s)`,
  );

  const changedSpecs = specs.filter((s) => s.plan === "standard");
  const rolled = await timed(() => {
    const stacks = stacksWith(changedCatalog);
    return rollout(
      changedSpecs,
      rolloutOrder(changedSpecs, changedCatalog),
      { up: async (s) => void (await stacks.up(s)) },
      {
        canary: 5,
        batchSize: 20,
        maxFailures: 1,
        concurrency: CONCURRENCY,
        resume: false,
        journal: new RolloutJournal(path.join(root, "rollout.json")),
        onEvent: () => undefined,
      },
    );
  });
  console.log(
    `rollout (--canary 5 --batch-size 20, concurrency ${CONCURRENCY}): ${fmt(rolled.ms)} for ` +
      `${changedCount} tenants, ${(rolled.ms / changedCount / 1000).toFixed(2)} s/tenant, ` +
      `${rolled.value ? "all succeeded" : "FAILED"}`,
  );
  fs.rmSync(root, { recursive: true, force: true });

  console.log(`\n## a reconcile whose inputs are unchanged (API, ${SKIP_SAMPLES} tenants)`);
  const h = new ApiHarness();
  await h.start();
  try {
    const ids = Array.from(
      { length: SKIP_SAMPLES },
      (_, n) => `skip-${String(n).padStart(3, "0")}`,
    );
    for (const id of ids) {
      const res = await asAdmin(h.api().post("/admin/tenants")).send({
        tenantId: id,
        customerId: "bench",
        plan: "basic",
        odooVersion: "17",
        adminEmail: "bench@example.com",
      });
      if (res.status !== 202) throw new Error(`create ${id}: ${res.status}`);
    }
    const converged = (id: string, generation: number) =>
      eventually(async () => {
        const r = await h.runtime.pool.query(
          "SELECT observed_generation >= $2 AS done FROM tenants WHERE id = $1",
          [id, generation],
        );
        return r.rows[0]?.done === true;
      }, 120_000);
    for (const id of ids) await converged(id, 1);
    for (const id of ids) {
      await h.runtime.pool.query(
        "UPDATE tenants SET desired_generation = desired_generation + 1 WHERE id = $1",
        [id],
      );
      await asAdmin(h.api().post(`/admin/tenants/${id}/reconcile`));
      await converged(id, 2);
    }
    const durations = async (generation: number) =>
      (
        await h.runtime.pool.query(
          `SELECT extract(epoch FROM finished_at - started_at) * 1000 AS ms FROM operations
            WHERE type = 'up' AND status = 'succeeded' AND generation = $1`,
          [generation],
        )
      ).rows.map((r) => Number(r.ms));
    const runs = await durations(1);
    const skips = await durations(2);
    console.log(
      `engine run (the floor it saves): median ${median(runs).toFixed(0)} ms\n` +
        `unchanged inputs, no engine run:  median ${median(skips).toFixed(1)} ms, p95 ${percentile(skips, 95).toFixed(1)} ms ` +
        `(${(median(runs) / median(skips)).toFixed(0)}x less; target ≤ 50 ms)`,
    );
  } finally {
    await h.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
