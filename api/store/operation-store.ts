import type { Pool } from "pg";

export type OperationStatus = "running" | "succeeded" | "failed" | "abandoned";

export interface Operation {
  id: string;
  tenantId: string;
  type: "up" | "destroy";
  generation: number;
  status: OperationStatus;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  logTail: string | null;
  changes: Record<string, number> | null;
}

const row = (r: any): Operation => ({
  id: r.id,
  tenantId: r.tenant_id,
  type: r.type,
  generation: r.generation,
  status: r.status,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
  error: r.error,
  logTail: r.log_tail,
  changes: r.changes,
});

/** The operation log: one row per engine run on a tenant. */
export class OperationStore {
  constructor(private readonly pool: Pool) {}

  /** Starts an operation; any earlier one still `running` was cut short by a crash: abandoned. */
  async start(tenantId: string, type: Operation["type"], generation: number): Promise<Operation> {
    await this.pool.query(
      "UPDATE operations SET status = 'abandoned', finished_at = now() WHERE tenant_id = $1 AND status = 'running'",
      [tenantId],
    );
    const r = await this.pool.query(
      "INSERT INTO operations (tenant_id, type, generation, status) VALUES ($1, $2, $3, 'running') RETURNING *",
      [tenantId, type, generation],
    );
    return row(r.rows[0]);
  }

  async finish(
    id: string,
    status: "succeeded" | "failed",
    details: { error?: string; logTail?: string; changes?: Record<string, number> } = {},
  ): Promise<void> {
    await this.pool.query(
      "UPDATE operations SET status = $2, finished_at = now(), error = $3, log_tail = $4, changes = $5 WHERE id = $1",
      [id, status, details.error ?? null, details.logTail ?? null, details.changes ?? null],
    );
  }

  async get(id: string): Promise<Operation | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const r = await this.pool.query("SELECT * FROM operations WHERE id = $1", [id]);
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  async latest(tenantId: string): Promise<Operation | undefined> {
    const r = await this.pool.query(
      "SELECT * FROM operations WHERE tenant_id = $1 ORDER BY started_at DESC LIMIT 1",
      [tenantId],
    );
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  /** The latest operation of every tenant. */
  async latestByTenant(): Promise<Map<string, Operation>> {
    const r = await this.pool.query(
      "SELECT DISTINCT ON (tenant_id) * FROM operations ORDER BY tenant_id, started_at DESC",
    );
    return new Map(r.rows.map((x) => [x.tenant_id as string, row(x)]));
  }
}
