// What the alert rules read from the API's store (api/store/fleet-health.ts), on the real
// PostgreSQL with the API's migrations, through the API's own metrics registry: the figures an
// operator is paged on, named by tenant.
import type { Pool } from "pg";
import { createMetrics } from "../api/common/metrics";
import { migratedDatabase } from "./helpers/migrated-database";
import { probedTenants, readFleetHealth } from "../api/store/fleet-health";
import { RestoreDrillStore } from "../api/store/restore-drill-store";

const db = migratedDatabase("health");
let pool: Pool;

beforeAll(async () => {
  pool = await db.create();
});

afterAll(() => db.drop(pool));

const tenant = (id: string, o: string) =>
  pool.query(
    `INSERT INTO tenants (id, customer_id, spec, desired_state, source, desired_generation,
       observed_generation, failed_generation, created_at, updated_at)
     SELECT $1, 'c', '{}', ${o}`,
    [id],
  );

test("an empty fleet: nothing waits, nothing is old, no backup is unproven", async () => {
  const { drillLastSuccess, ...rest } = await readFleetHealth(pool);
  expect(rest).toEqual({
    backupAge: new Map(),
    unconverged: new Map(),
    givenUp: [],
    inboxOldest: 0,
    mailOldest: 0,
    drillFailing: [],
    usageMeasurementAge: new Map(),
    usageUnrecorded: new Map(),
    overLimit: [],
  });
  expect(Math.abs(drillLastSuccess - Date.now() / 1000)).toBeLessThan(60);
});

test("backup ages, stuck and given-up tenants, the inbox's and the outbox's oldest", async () => {
  const hoursAgo = (h: number) => `now() - interval '${h} hours'`;
  // Active and provisioned: one backed up 2 h ago (a newer failed attempt and a forgotten newer
  // backup do not count), one never backed up since it was made 30 h ago.
  await tenant("backed-up", `'active', 'admin', 2, 2, NULL, ${hoursAgo(100)}, now()`);
  await tenant("never-backed-up", `'active', 'admin', 1, 1, NULL, ${hoursAgo(30)}, now()`);
  // Not counted for backups: suspended, never provisioned.
  await tenant("suspended", `'suspended', 'admin', 3, 3, NULL, ${hoursAgo(100)}, now()`);
  await tenant("new", `'active', 'admin', 1, 0, NULL, now(), now()`);
  // Behind: its change's first operation began 40 min ago; one given up on.
  await tenant("stuck", `'active', 'admin', 5, 4, NULL, ${hoursAgo(100)}, now()`);
  await tenant("given-up", `'active', 'admin', 7, 6, 7, ${hoursAgo(100)}, now()`);
  const backup = (id: string, status: string, finished: string, forgotten = "NULL") =>
    pool.query(
      `INSERT INTO backups (tenant_id, reason, status, plan, odoo_version, started_at, finished_at, forgotten_at)
       VALUES ($1, 'scheduled', '${status}', 'basic', '17', ${finished}, ${finished}, ${forgotten})`,
      [id],
    );
  await backup("backed-up", "succeeded", hoursAgo(2));
  await backup("backed-up", "failed", hoursAgo(1));
  await backup("backed-up", "succeeded", hoursAgo(1.5), "now()");
  await pool.query(
    `INSERT INTO operations (tenant_id, type, generation, status, started_at)
     VALUES ('stuck', 'up', 5, 'failed', now() - interval '40 minutes'),
            ('stuck', 'up', 5, 'running', now() - interval '5 minutes'),
            ('stuck', 'up', 4, 'succeeded', now() - interval '3 hours')`,
  );
  await pool.query(
    `INSERT INTO webhook_inbox (event_type, body, received_at, processed_at)
     VALUES ('X', '{}', now() - interval '20 minutes', NULL),
            ('X', '{}', now() - interval '2 hours', now())`,
  );
  await pool.query(
    `INSERT INTO mail_outbox (to_address, subject, body, created_at, sent_at)
     VALUES ('a@example.com', 's', 'b', now() - interval '45 minutes', NULL),
            ('a@example.com', 's', 'b', now() - interval '3 hours', now())`,
  );

  const metrics = createMetrics();
  metrics.fleetHealthSource.read = () => readFleetHealth(pool);
  const text = await metrics.registry.metrics();
  const value = (series: string) => {
    const m = new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const near = (v: number | undefined, seconds: number) =>
    expect(Math.abs((v ?? -1e9) - seconds)).toBeLessThan(60);
  near(value('odoo_saas_tenant_backup_age_seconds{tenant="backed-up"}'), 2 * 3600);
  near(value('odoo_saas_tenant_backup_age_seconds{tenant="never-backed-up"}'), 30 * 3600);
  for (const t of ["suspended", "new"])
    expect(value(`odoo_saas_tenant_backup_age_seconds{tenant="${t}"}`)).toBeUndefined();
  near(value('odoo_saas_tenant_unconverged_seconds{tenant="stuck"}'), 40 * 60);
  expect(value('odoo_saas_tenant_unconverged_seconds{tenant="given-up"}')).toBeUndefined();
  expect(value('odoo_saas_tenant_reconcile_given_up{tenant="given-up"}')).toBe(1);
  expect(value('odoo_saas_tenant_reconcile_given_up{tenant="stuck"}')).toBeUndefined();
  near(value("odoo_saas_webhook_inbox_oldest_seconds"), 20 * 60);
  near(value("odoo_saas_mail_undelivered_oldest_seconds"), 45 * 60);
  // No drill yet: the oldest backup in the repository (2 h ago) is the one unproven since.
  near(Date.now() / 1000 - value("odoo_saas_restore_drill_last_success_timestamp")!, 2 * 3600);
});

test("restore drills: the last success, and the active tenants whose latest drill failed", async () => {
  const store = new RestoreDrillStore(pool);
  await tenant("drilled-ok", `'active', 'admin', 1, 1, NULL, now(), now()`);
  await tenant("drilled-bad", `'active', 'admin', 1, 1, NULL, now(), now()`);
  await tenant("drilled-mended", `'active', 'admin', 1, 1, NULL, now(), now()`);
  await tenant("drilled-gone", `'terminated', 'admin', 1, 1, NULL, now(), now()`);
  const backupId = "00000000-0000-4000-8000-000000000001";
  const drill = async (id: string, status: "succeeded" | "failed") => {
    const d = await store.start(id, backupId);
    return store.finish(
      d.id,
      status === "succeeded" ? { status, details: { tables: 2 } } : { status, error: "broken" },
    );
  };
  const ok = await drill("drilled-ok", "succeeded");
  await drill("drilled-bad", "failed");
  await drill("drilled-mended", "failed");
  await drill("drilled-mended", "succeeded");
  await drill("drilled-gone", "failed");
  // One started and never finished (its process died) is failed when the next one starts.
  const stale = await store.start("drilled-bad", backupId);
  await store.start("drilled-bad", backupId);
  expect((await store.list()).find((d) => d.id === stale.id)).toMatchObject({
    status: "failed",
    error: expect.stringMatching(/^interrupted/),
  });
  const h = await readFleetHealth(pool);
  expect(h.drillFailing).toEqual(["drilled-bad"]);
  expect(h.drillLastSuccess).toBeGreaterThanOrEqual(Math.floor(Date.parse(ok.finishedAt!) / 1000));
});

test("the tenants probed: active at their desired state, with a URL, in no move", async () => {
  const probed = (id: string, o: string) =>
    pool.query(
      `INSERT INTO tenants (id, customer_id, spec, desired_state, observed_state, source,
         desired_generation, observed_generation, outputs, node_move, database_move)
       SELECT $1, 'c', '{"odooVersion": "16"}', ${o}`,
      [id],
    );
  const url = (id: string) => `'{"url": "https://${id}.example"}'`;
  await probed("p-serving", `'active', 'active', 'admin', 2, 2, ${url("p-serving")}, NULL, NULL`);
  await probed("p-changing", `'active', 'active', 'admin', 3, 2, ${url("p-changing")}, NULL, NULL`);
  await probed(
    "p-suspended",
    `'suspended', 'suspended', 'admin', 2, 2, ${url("p-suspended")}, NULL, NULL`,
  );
  await probed(
    "p-moving",
    `'active', 'active', 'admin', 2, 2, ${url("p-moving")}, '{"to": "w2"}', NULL`,
  );
  await probed("p-no-url", `'active', 'active', 'admin', 2, 2, '{}', NULL, NULL`);
  expect((await probedTenants(pool)).filter((t) => t.tenantId.startsWith("p-"))).toEqual([
    { tenantId: "p-serving", url: "https://p-serving.example", odooVersion: "16" },
  ]);
});
