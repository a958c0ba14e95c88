import type { Pool } from "pg";
import type { FleetHealth } from "../domain/fleet-health";

/** The fleet's health as the alert rules read it, in one round trip (ages by the database's clock). */
export async function readFleetHealth(pool: Pool): Promise<FleetHealth> {
  const r = await pool.query(`
    SELECT
      (SELECT coalesce(json_object_agg(t.id, extract(epoch FROM now() - coalesce(b.last, t.created_at))), '{}')
         FROM tenants t
         LEFT JOIN (SELECT tenant_id, max(finished_at) AS last FROM backups
                     WHERE status = 'succeeded' AND forgotten_at IS NULL GROUP BY tenant_id) b
           ON b.tenant_id = t.id
        WHERE t.desired_state = 'active' AND t.observed_generation > 0) AS backup_age,
      (SELECT coalesce(json_object_agg(t.id, extract(epoch FROM now() - coalesce(
                (SELECT min(o.started_at) FROM operations o
                  WHERE o.tenant_id = t.id AND o.generation = t.desired_generation),
                t.updated_at))), '{}')
         FROM tenants t
        WHERE t.observed_generation < t.desired_generation
          AND t.failed_generation IS DISTINCT FROM t.desired_generation) AS unconverged,
      (SELECT coalesce(json_agg(id), '[]') FROM tenants
        WHERE failed_generation = desired_generation
          AND observed_generation < desired_generation) AS given_up,
      (SELECT coalesce(extract(epoch FROM now() - min(received_at)), 0)
         FROM webhook_inbox WHERE processed_at IS NULL) AS inbox_oldest,
      (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)
         FROM mail_outbox WHERE sent_at IS NULL) AS mail_oldest,
      extract(epoch FROM coalesce(
        (SELECT max(finished_at) FROM restore_drills WHERE status = 'succeeded'),
        (SELECT min(finished_at) FROM backups WHERE status = 'succeeded' AND forgotten_at IS NULL),
        now())) AS drill_last_success,
      (SELECT coalesce(json_agg(d.tenant_id ORDER BY d.tenant_id), '[]')
         FROM (SELECT DISTINCT ON (tenant_id) tenant_id, status FROM restore_drills
                WHERE status <> 'running' ORDER BY tenant_id, started_at DESC) d
         JOIN tenants t ON t.id = d.tenant_id
        WHERE d.status = 'failed' AND t.desired_state = 'active') AS drill_failing,
      (SELECT coalesce(json_object_agg(t.id, extract(epoch FROM now() - coalesce(m.last, t.created_at))), '{}')
         FROM tenants t
         LEFT JOIN (SELECT tenant_id, max(measured_at) AS last FROM usage_measurements
                     WHERE error IS NULL GROUP BY tenant_id) m ON m.tenant_id = t.id
        WHERE t.desired_state IN ('active', 'suspended') AND t.observed_generation > 0) AS usage_age,
      (SELECT coalesce(json_object_agg(tenant_id, n), '{}') FROM
         (SELECT tenant_id, count(*) AS n FROM usage_days
           WHERE (status = 'outside_window' AND corrected_by IS NULL)
              OR (status = 'measured' AND attempts > 0 AND day < (now() AT TIME ZONE 'UTC')::date - 1)
           GROUP BY tenant_id) u) AS usage_unrecorded,
      (SELECT coalesce(json_agg(json_build_object('tenant', tenant_id, 'unit', unit, 'amount', amount, 'cap', cap)
                                ORDER BY tenant_id, unit), '[]')
         FROM usage_limits) AS over_limit`);
  const row = r.rows[0];
  const ages = (o: Record<string, number>) =>
    new Map(Object.entries(o).map(([k, v]) => [k, Math.round(Number(v))]));
  return {
    backupAge: ages(row.backup_age),
    unconverged: ages(row.unconverged),
    givenUp: row.given_up,
    inboxOldest: Math.round(Number(row.inbox_oldest)),
    mailOldest: Math.round(Number(row.mail_oldest)),
    drillLastSuccess: Math.round(Number(row.drill_last_success)),
    drillFailing: row.drill_failing,
    usageMeasurementAge: ages(row.usage_age),
    usageUnrecorded: ages(row.usage_unrecorded),
    overLimit: row.over_limit.map(
      (x: { tenant: string; unit: string; amount: string; cap: string }) => ({
        ...x,
        amount: Number(x.amount),
        cap: Number(x.cap),
      }),
    ),
  };
}

/**
 * The tenants Prometheus probes through the edge: active, at their desired state, and in no
 * planned maintenance (a change being applied, a move between nodes or database servers), and
 * awake (a sleeping tenant is not down, and its probes do not count as use: tenant-sleep.ts).
 * Tenants left out of probing are not silent: a change that does not finish has its own alerts.
 */
export async function probedTenants(
  pool: Pool,
): Promise<{ tenantId: string; url: string; odooVersion: string }[]> {
  const r = await pool.query(
    `SELECT id, outputs->>'url' AS url, spec->>'odooVersion' AS odoo_version FROM tenants
      WHERE desired_state = 'active' AND observed_state = 'active'
        AND observed_generation = desired_generation
        AND node_move IS NULL AND database_move IS NULL
        AND sleeping_since IS NULL AND applied_spec->>'state' IS DISTINCT FROM 'sleeping'
        AND outputs->>'url' IS NOT NULL
      ORDER BY id`,
  );
  return r.rows.map((x) => ({ tenantId: x.id, url: x.url, odooVersion: x.odoo_version }));
}
