import type { Pool } from "pg";

export type DrillStatus = "running" | "succeeded" | "failed";

/** One restore drill: a tenant's backup restored into scratch, checked, dropped. */
export interface DrillRecord {
  id: string;
  tenantId: string;
  backupId: string;
  status: DrillStatus;
  /** What was checked: tables and modules in the database, files restored against the backup's. */
  details: Record<string, unknown> | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

const row = (r: any): DrillRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  backupId: r.backup_id,
  status: r.status,
  details: r.details,
  error: r.error,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
});

/** The restore drills' records. */
export class RestoreDrillStore {
  constructor(private readonly pool: Pool) {}

  /**
   * The next tenants to drill, round-robin: active and provisioned, with a verified backup in the
   * repository, the ones drilled longest ago (or never) first.
   */
  async nextTenants(count: number): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT t.id FROM tenants t
        WHERE t.desired_state = 'active' AND t.observed_state = 'active'
          AND t.observed_generation > 0
          AND EXISTS (SELECT 1 FROM backups b WHERE b.tenant_id = t.id
                        AND b.status = 'succeeded' AND b.forgotten_at IS NULL)
        ORDER BY (SELECT max(d.started_at) FROM restore_drills d WHERE d.tenant_id = t.id)
                 ASC NULLS FIRST, t.id
        LIMIT $1`,
      [count],
    );
    return r.rows.map((x) => x.id as string);
  }

  async start(tenantId: string, backupId: string): Promise<DrillRecord> {
    await this.pool.query(
      `UPDATE restore_drills SET status = 'failed', finished_at = now(),
         error = 'interrupted: its process stopped before recording how it ended'
        WHERE tenant_id = $1 AND status = 'running'`,
      [tenantId],
    );
    const r = await this.pool.query(
      `INSERT INTO restore_drills (tenant_id, backup_id, status) VALUES ($1, $2, 'running') RETURNING *`,
      [tenantId, backupId],
    );
    return row(r.rows[0]);
  }

  async finish(
    id: string,
    outcome:
      | { status: "succeeded"; details: Record<string, unknown> }
      | { status: "failed"; error: string; details?: Record<string, unknown> },
  ): Promise<DrillRecord> {
    const r = await this.pool.query(
      `UPDATE restore_drills SET status = $2, details = $3, error = $4, finished_at = now()
        WHERE id = $1 RETURNING *`,
      [
        id,
        outcome.status,
        outcome.details ? JSON.stringify(outcome.details) : null,
        outcome.status === "failed" ? outcome.error : null,
      ],
    );
    return row(r.rows[0]);
  }

  /** The newest drills first. */
  async list(limit = 50): Promise<DrillRecord[]> {
    const r = await this.pool.query(
      "SELECT * FROM restore_drills ORDER BY started_at DESC LIMIT $1",
      [limit],
    );
    return r.rows.map(row);
  }
}
