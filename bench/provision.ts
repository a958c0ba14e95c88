// bench/provision: how long a tenant takes to become reachable, through the whole product, next
// to a floor measured in the same run: the same database, volume, initialisation and container
// made by hand (SQL and plain Docker API calls, no Pulumi), reachable through the same Traefik.
//   1. one tenant end to end: API call -> Odoo answers through Traefik (median of --runs);
//   2. --tenants tenants at concurrency 2 and 4 through the automation layer, and the floor alike.
// Run: npm run bench:provision [-- --runs 3 --tenants 20]
import Docker from "dockerode";
import { DEFAULT_EDGE_POLICY } from "../components/edge-policy";
import request from "supertest";
import { odooCommand, odooHealthcheck, odooInitCommand } from "../components/tenant/odoo-options";
import { tenantNames } from "../components/tenant/names";
import { traefikLabels } from "../components/tenant/traefik-labels";
import { loadCatalog } from "../catalog";
import { readLocalImages } from "../automation/local-platform";
import { ADMIN_TOKEN, ApiHarness, eventually } from "../test/api-harness";
import {
  apiEnvFor,
  BASE_DOMAIN,
  request as viaTraefik,
  startPlatform,
  sweepTenants,
  type E2EPlatform,
} from "../test/e2e/platform";
import { median, numberArg } from "./stats";

const RUNS = numberArg("runs", 3);
const TENANTS = numberArg("tenants", 20);
/** Odoo's health check interval (Traefik routes a tenant once healthy); production default 10. */
const HEALTH = numberArg("health-interval", 1);
const PLAN = "trial";
const docker = new Docker();
const catalog = loadCatalog();
const image = readLocalImages().ODOO_SAAS_ODOO_IMAGE_17;

const reachable = (p: E2EPlatform, id: string) =>
  eventually(
    async () =>
      (await viaTraefik(p.httpsPort, `${id}.${BASE_DOMAIN}`, "/web/health")).status === 200,
    180000,
    `${id} reachable`,
  );

/** The floor: what the tenant stack creates, made directly with SQL and the Docker API. */
async function provisionByHand(p: E2EPlatform, id: string): Promise<void> {
  const names = tenantNames(`${id}-corp`, id);
  const plan = catalog.plan(PLAN)!;
  const password = "by-hand-password";
  const admin = await p.admin();
  try {
    await admin.query(
      `CREATE ROLE ${names.role} LOGIN PASSWORD '${password}' CONNECTION LIMIT ${plan.database.connectionLimit}`,
    );
    await admin.query(
      `CREATE DATABASE ${names.database} OWNER ${names.role} TEMPLATE template0 ENCODING 'UTF8'`,
    );
    await admin.query(`REVOKE ALL ON DATABASE ${names.database} FROM PUBLIC`);
  } finally {
    await admin.end();
  }
  const labels = { "odoo-saas.tenant": id };
  await docker.createVolume({ Name: names.volume, Labels: labels });
  const env = [
    `HOST=${p.prefix}-postgres`,
    "PORT=5432",
    `USER=${names.role}`,
    `PASSWORD=${password}`,
  ];
  const mounts = [{ Type: "volume" as const, Source: names.volume, Target: "/var/lib/odoo" }];
  const init = await docker.createContainer({
    Image: image,
    Cmd: odooInitCommand(names.database),
    Env: env,
    Labels: labels,
    HostConfig: { NetworkMode: `${p.prefix}-data`, Mounts: mounts },
  });
  await init.start();
  const { StatusCode } = await init.wait();
  await init.remove();
  if (StatusCode !== 0) throw new Error(`init of ${id} exited ${StatusCode}`);
  const health = odooHealthcheck("17", { intervalSeconds: HEALTH, steadySeconds: 120 });
  const runtime = await docker.createContainer({
    name: names.runtime,
    Image: image,
    Cmd: odooCommand(plan, names.database),
    Env: env,
    Labels: {
      ...labels,
      ...traefikLabels({
        router: names.router,
        hosts: [`${id}.${BASE_DOMAIN}`],
        odooVersion: "17",
        entryPoint: "websecure",
        network: `${p.prefix}-edge`,
        edge: DEFAULT_EDGE_POLICY,
        runtime: "container",
      }),
    },
    Healthcheck: {
      Test: health.tests,
      Interval: health.intervalSeconds * 1e9,
      Timeout: health.timeoutSeconds * 1e9,
      Retries: health.retries,
      StartPeriod: health.startPeriodSeconds * 1e9,
    },
    HostConfig: {
      NetworkMode: `${p.prefix}-edge`,
      Mounts: mounts,
      NanoCpus: plan.cpus * 1e9,
      Memory: plan.memoryMb * 1024 * 1024,
      RestartPolicy: { Name: "unless-stopped" },
    },
  });
  await docker.getNetwork(`${p.prefix}-data`).connect({ Container: runtime.id });
  await runtime.start();
}

async function removeByHand(p: E2EPlatform, ids: string[]) {
  await sweepTenants(ids);
  const admin = await p.admin();
  for (const id of ids) {
    const names = tenantNames(`${id}-corp`, id);
    await admin.query(`DROP DATABASE IF EXISTS ${names.database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${names.role}`);
  }
  await admin.end();
}

const spec = (id: string) => ({
  tenantId: id,
  customerId: `${id}-corp`,
  plan: PLAN,
  odooVersion: "17",
  adminEmail: `owner@${id}.example`,
});

/** Runs `work` over `ids` with at most `concurrency` at once; returns the wall time. */
async function timed(ids: string[], concurrency: number, work: (id: string) => Promise<void>) {
  const started = Date.now();
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) await work(id);
    }),
  );
  return Date.now() - started;
}

async function main() {
  const p = await startPlatform("container", "e2eb", { healthcheckIntervalSeconds: HEALTH });
  const h = new ApiHarness({
    realProgram: true,
    env: { ...apiEnvFor(p), RECONCILE_CONCURRENCY: "4" },
  });
  await h.start();
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  try {
    console.log(
      `# bench/provision: plan ${PLAN}, Odoo stand-in, container runtime, health checks every ${HEALTH} s, 2 cores`,
    );
    const floors: number[] = [];
    const products: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const byHand = `floor-${run}`;
      floors.push(
        await timed([byHand], 1, async (id) => {
          await provisionByHand(p, id);
          await reachable(p, id);
        }),
      );
      await removeByHand(p, [byHand]);
      const viaApi = `api-${run}`;
      products.push(
        await timed([viaApi], 1, async (id) => {
          await request(h.runtime.url!).post("/admin/tenants").set(auth).send(spec(id)).expect(202);
          await reachable(p, id);
        }),
      );
      await request(h.runtime.url!).delete(`/admin/tenants/${viaApi}`).set(auth).expect(202);
    }
    const f = median(floors);
    const m = median(products);
    console.log(
      `one tenant, API call -> reachable: median ${(m / 1000).toFixed(2)} s; floor (SQL + docker run) ` +
        `${(f / 1000).toFixed(2)} s; ratio ${(m / f).toFixed(2)} (target <= 1.25); runs ${RUNS}`,
    );
    await eventually(async () => (await p.tenants.list()).length === 0, 180000, "API deletions");

    for (const concurrency of [2, 4]) {
      const ids = Array.from(
        { length: TENANTS },
        (_, n) => `c${concurrency}-${String(n).padStart(2, "0")}`,
      );
      const floorMs = await timed(
        ids.map((i) => `f${i}`),
        concurrency,
        async (id) => {
          await provisionByHand(p, id);
          await reachable(p, id);
        },
      );
      await removeByHand(
        p,
        ids.map((i) => `f${i}`),
      );
      const stackMs = await timed(ids, concurrency, async (id) => {
        await p.tenants.up(spec(id));
        await reachable(p, id);
      });
      await timed(ids, 4, async (id) => void (await p.tenants.destroy(id)));
      const perMin = (ms: number) => (TENANTS / (ms / 60000)).toFixed(1);
      console.log(
        `${TENANTS} tenants at concurrency ${concurrency}: ${(stackMs / 1000).toFixed(1)} s ` +
          `(${perMin(stackMs)} tenants/min); floor ${(floorMs / 1000).toFixed(1)} s ` +
          `(${perMin(floorMs)}/min); ratio ${(stackMs / floorMs).toFixed(2)}`,
      );
    }
  } finally {
    await h.stop();
    for (const id of await p.tenants.list().catch(() => [] as string[]))
      await p.tenants.destroy(id).catch(() => undefined);
    await p.teardown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
