import type { Pool } from "pg";
import type { BackupReason, BackupResult } from "../../backup/tenant-backups";

export type BackupStatus = "running" | "succeeded" | "failed" | "abandoned";

/** A backup as the admin API shows it. */
export interface BackupRecord {
  id: string;
  tenantId: string;
  reason: BackupReason;
  status: BackupStatus;
  plan: string;
  odooVersion: string;
  databaseName: string | null;
  databaseSnapshot: string | null;
  filestoreSnapshot: string | null;
  bytesProcessed: number | null;
  bytesAdded: number | null;
  filestoreEntries: number | null;
  durationMs: number | null;
  verifiedAt: string | null;
  pgVersion: string | null;
  modules: Record<string, string | null> | null;
  databaseFingerprint: string | null;
  /** Nothing was written since the previous backup: its database snapshot is this one's too. */
  databaseReused: boolean;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  forgottenAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const num = (v: string | number | null) => (v === null ? null : Number(v));

const row = (r: any): BackupRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  reason: r.reason,
  status: r.status,
  plan: r.plan,
  odooVersion: r.odoo_version,
  databaseName: r.database_name,
  databaseSnapshot: r.database_snapshot,
  filestoreSnapshot: r.filestore_snapshot,
  bytesProcessed: num(r.bytes_processed),
  bytesAdded: num(r.bytes_added),
  filestoreEntries: r.filestore_entries,
  durationMs: r.duration_ms,
  verifiedAt: iso(r.verified_at),
  pgVersion: r.pg_version,
  modules: r.modules,
  databaseFingerprint: r.database_fingerprint,
  databaseReused: r.database_reused,
  error: r.error,
  startedAt: r.started_at.toISOString(),
  finishedAt: iso(r.finished_at),
  forgottenAt: iso(r.forgotten_at),
});

/**
 * The record of every backup. A backup counts (restore, export, "the final backup exists") only
 * once it is `succeeded`, which is written after its snapshots were read back and verified.
 */
export class BackupStore {
  constructor(private readonly pool: Pool) {}

  /** Starts a backup; one still `running` for the tenant was cut short by a crash: abandoned. */
  async start(
    tenantId: string,
    reason: BackupReason,
    labels: { plan: string; odooVersion: string; databaseName: string },
  ): Promise<BackupRecord> {
    await this.pool.query(
      `UPDATE backups SET status = 'abandoned', finished_at = now(),
         error = 'interrupted: its process stopped or lost the database before recording how it ended' WHERE tenant_id = $1 AND status = 'running'`,
      [tenantId],
    );
    const r = await this.pool.query(
      `INSERT INTO backups (tenant_id, reason, status, plan, odoo_version, database_name)
       VALUES ($1, $2, 'running', $3, $4, $5) RETURNING *`,
      [tenantId, reason, labels.plan, labels.odooVersion, labels.databaseName],
    );
    return row(r.rows[0]);
  }

  async succeed(id: string, r: BackupResult): Promise<BackupRecord> {
    const u = await this.pool.query(
      `UPDATE backups SET status = 'succeeded', finished_at = now(), verified_at = now(),
         database_snapshot = $2, filestore_snapshot = $3, bytes_processed = $4, bytes_added = $5,
         filestore_entries = $6, duration_ms = $7, pg_version = $8, modules = $9,
         database_fingerprint = $10, database_reused = $11
       WHERE id = $1 RETURNING *`,
      [
        id,
        r.databaseSnapshot,
        r.filestoreSnapshot,
        r.bytesProcessed,
        r.bytesAdded,
        r.filestoreEntries,
        r.durationMs,
        r.pgVersion,
        r.modules,
        r.fingerprint,
        r.databaseReused,
      ],
    );
    return row(u.rows[0]);
  }

  async fail(id: string, error: string): Promise<void> {
    await this.pool.query(
      "UPDATE backups SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1",
      [id, error],
    );
  }

  /** Backups whose snapshots the retention policy dropped. */
  async forgotten(snapshotIds: string[]): Promise<number> {
    if (!snapshotIds.length) return 0;
    const r = await this.pool.query(
      `UPDATE backups SET forgotten_at = now() WHERE forgotten_at IS NULL
         AND (database_snapshot = ANY($1) OR filestore_snapshot = ANY($1))`,
      [snapshotIds],
    );
    return r.rowCount ?? 0;
  }

  async list(tenantId: string): Promise<BackupRecord[]> {
    const r = await this.pool.query(
      "SELECT * FROM backups WHERE tenant_id = $1 ORDER BY started_at DESC",
      [tenantId],
    );
    return r.rows.map(row);
  }

  async get(id: string): Promise<BackupRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const r = await this.pool.query("SELECT * FROM backups WHERE id = $1", [id]);
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  /** The newest verified backup still in the repository, optionally started at or after `since`. */
  async latestGood(tenantId: string, since?: Date): Promise<BackupRecord | undefined> {
    const r = await this.pool.query(
      `SELECT * FROM backups WHERE tenant_id = $1 AND status = 'succeeded' AND forgotten_at IS NULL
         AND ($2::timestamptz IS NULL OR started_at >= $2) ORDER BY started_at DESC LIMIT 1`,
      [tenantId, since ?? null],
    );
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  /** Snapshots of tenants deleted before `before`: their last backups' retention has ended. */
  async expiredOfDeleted(before: Date): Promise<{ ids: string[]; snapshots: string[] }> {
    const r = await this.pool.query(
      `SELECT b.id, b.database_snapshot, b.filestore_snapshot FROM backups b
         JOIN tenants t ON t.id = b.tenant_id
        WHERE t.desired_state = 'deleted' AND t.deleted_at < $1 AND b.forgotten_at IS NULL
          AND b.database_snapshot IS NOT NULL`,
      [before],
    );
    return {
      ids: r.rows.map((x) => x.id),
      snapshots: r.rows.flatMap((x) => [x.database_snapshot, x.filestore_snapshot]),
    };
  }
}
