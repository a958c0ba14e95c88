// bench/density: how many tenants one shared PostgreSQL server takes, from the connections Odoo's
// processes really open and keep (the Odoo stand-in keeps them as Odoo's pools do: per process,
// open until idle for 10 minutes), on the platform's PostgreSQL image with the local platform's
// max_connections (300).
//   1. per shared plan, one tenant with the tenant program's command line and role limit:
//      connections held once healthy, the peak under the plan's load (every HTTP worker busy with
//      write requests, the real-time channel dispatching, the cron woken), held after it, each
//      process's peak, refusals, and the container's memory;
//   2. the server filled with as many trial tenants as the admission rule admits (or --fill N),
//      all under load at once: the peak of connections against max_connections, every refusal.
// With --pooler N, the tenants connect through the platform's PgBouncers with transaction pools of
// at least N (postgres.pooler.minTransactionPoolSize), and admission and role limits are the
// pooled ones.
// Run: npm run bench:density [-- --window 20 --fill 0 --pooler 0]
import { loadCatalog } from "../catalog";
import {
  sharedConnectionLimit,
  sharedPostgresAdmits,
} from "../components/platform/shared-postgres-capacity";
import { type LoadedTenant, SharedServer } from "../test/helpers/shared-server-load";
import { median, numberArg, percentile } from "./stats";

const WINDOW = numberArg("window", 20);
const FILL = numberArg("fill", 0);
const MAX_CONNECTIONS = 300; // the local platform's shared server (automation/local-platform.ts)
const catalog = loadCatalog();
const POOL = numberArg("pooler", 0);
const pooler = POOL ? { minTransactionPoolSize: POOL } : undefined;
const server = new SharedServer("density-bench", MAX_CONNECTIONS, pooler);

const row = (cells: (string | number)[], widths: number[]) =>
  cells.map((c, i) => String(c).padStart(widths[i])).join("  ");

async function perPlan() {
  console.log(
    `\n1. One tenant per shared plan, ${WINDOW} s of its plan's load (client connections of its role)`,
  );
  const widths = [8, 9, 10, 10, 9, 4, 10, 7, 6];
  console.log(
    row(
      [
        "plan",
        "processes",
        "db_maxconn",
        "role limit",
        "held idle",
        "peak",
        "held after",
        "refused",
        "memory",
      ],
      widths,
    ),
    " per process (peak)",
  );
  for (const plan of catalog.plans.filter((p) => p.database.placement === "shared")) {
    const t = await server.addTenant(`density_${plan.id}`, plan);
    const idle = (await server.connectionsByRole()).get(t.id) ?? 0;
    const load = await server.load([t], WINDOW);
    const after = (await server.connectionsByRole()).get(t.id) ?? 0;
    const pools = await server.pools(t);
    const refused = pools.reduce((n, p) => n + p.refused, 0) + load.failed;
    const cells = [
      plan.id,
      plan.odoo.workers + plan.odoo.maxCronThreads + 1,
      plan.odoo.dbMaxConnections,
    ];
    cells.push(
      sharedConnectionLimit(plan, pooler),
      idle,
      load.peakByRole.get(t.id) ?? 0,
      after,
      refused,
    );
    cells.push(`${(await server.memoryMb(t)).toFixed(0)} MB`);
    console.log(row(cells, widths), "", pools.map((p) => `${p.process} ${p.peak}`).join(", "));
    await t.container.remove({ force: true, v: true });
  }
}

async function fill() {
  const trial = catalog.plan("trial")!;
  let count = FILL;
  if (!count) {
    const held: { id: string; plan: string }[] = [];
    const next = () => ({ tenantId: `t${held.length}`, plan: "trial" });
    while (sharedPostgresAdmits(catalog, MAX_CONNECTIONS, held, next(), pooler).ok)
      held.push({ id: next().tenantId, plan: "trial" });
    count = held.length;
  }
  const how = `${FILL ? "--fill" : "as many as the admission rule admits"}, ${pooler ? `through the pooler (transaction pools of at least ${POOL})` : "directly"}`;
  console.log(
    `\n2. ${count} trial tenants (${how}), max_connections ${MAX_CONNECTIONS}, ${WINDOW} s of load on all at once`,
  );
  const tenants: LoadedTenant[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    tenants.push(await server.addTenant(`fill_${i}`, trial));
    if ((i + 1) % 10 === 0)
      console.log(`  ${i + 1} running (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  const byRole = await server.connectionsByRole();
  const idle = tenants.reduce((n, t) => n + (byRole.get(t.id) ?? 0), 0);
  const load = await server.load(tenants, WINDOW);
  const refused = (await Promise.all(tenants.map((t) => server.pools(t))))
    .flat()
    .reduce((n, p) => n + p.refused, 0);
  console.log(
    `  issue #26 target: >= 50 small tenants per 300 connections: ${count * (300 / MAX_CONNECTIONS) >= 50 && load.failed + refused === 0 ? "met" : "not met"} (${count}, ${load.failed + refused} failures)`,
  );
  const memory = await Promise.all(tenants.slice(0, 5).map((t) => server.memoryMb(t)));
  console.log(`  held by the tenants when idle: ${idle} (${(idle / count).toFixed(1)} each)`);
  console.log(`  peak under load, whole server: ${load.peak} of ${MAX_CONNECTIONS}`);
  console.log(
    `  requests: ${load.requests}, failed: ${load.failed}; connections refused (pools, roles, server): ${refused}`,
  );
  console.log(
    `  request duration: median ${median(load.latencies)} ms, p95 ${percentile(load.latencies, 95)} ms (300 ms of work for HTTP, 100 ms real-time)`,
  );
  console.log(
    `  memory per stand-in container: ${(memory.reduce((a, b) => a + b, 0) / memory.length).toFixed(0)} MB`,
  );
}

async function main() {
  await server.start();
  try {
    await perPlan();
    await fill();
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
