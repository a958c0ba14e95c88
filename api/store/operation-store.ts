import type { Pool } from "pg";
import type { Logger } from "../common/logger";

export type OperationStatus = "queued" | "running" | "succeeded" | "failed" | "abandoned";
export type OperationType = "up" | "destroy" | "backup" | "restore" | "move";

export interface Operation {
  id: string;
  tenantId: string;
  type: OperationType;
  generation: number;
  status: OperationStatus;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  logTail: string | null;
  changes: Record<string, number> | null;
  /** What a backup or restore was asked to do, and what it produced. */
  details: Record<string, unknown> | null;
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
  details: r.details,
});

/** The operation log: one row per engine run on a tenant. */
export class OperationStore {
  constructor(
    private readonly pool: Pool,
    /** Where an abandoned operation is reported (an operator tells it from a failed one). */
    private readonly logger?: Pick<Logger, "warn">,
  ) {}

  /**
   * Starts an operation (under the tenant's lock); any earlier one still `running` was cut short
   * by a crash: abandoned. `queuedId` starts an operation recorded when it was asked for.
   */
  async start(
    tenantId: string,
    type: OperationType,
    generation: number,
    queuedId?: string,
  ): Promise<Operation> {
    const abandoned = await this.pool.query(
      `UPDATE operations SET status = 'abandoned', finished_at = now(),
         error = coalesce(error, 'interrupted: its process stopped or lost the database before recording how it ended')
       WHERE tenant_id = $1 AND status = 'running' RETURNING id, type, started_at, error`,
      [tenantId],
    );
    for (const a of abandoned.rows)
      this.logger?.warn(
        { operationId: a.id, tenantId, type: a.type, startedAt: a.started_at, reason: a.error },
        "operation abandoned: the process running it stopped; it runs again now",
      );
    if (queuedId) {
      const r = await this.pool.query(
        // A retried job runs its operation again (after a failed attempt or a crash); one that
        // succeeded is done for good.
        `UPDATE operations SET status = 'running', started_at = now(), generation = $2,
           finished_at = NULL, error = NULL WHERE id = $1 AND status <> 'succeeded' RETURNING *`,
        [queuedId, generation],
      );
      if (r.rows[0]) return row(r.rows[0]);
    }
    const r = await this.pool.query(
      "INSERT INTO operations (tenant_id, type, generation, status) VALUES ($1, $2, $3, 'running') RETURNING *",
      [tenantId, type, generation],
    );
    return row(r.rows[0]);
  }

  /** Records an operation that a worker will run (a backup or restore asked for over the API). */
  async enqueue(
    tenantId: string,
    type: OperationType,
    details: Record<string, unknown>,
  ): Promise<Operation> {
    const r = await this.pool.query(
      `INSERT INTO operations (tenant_id, type, generation, status, details)
       VALUES ($1, $2, 0, 'queued', $3) RETURNING *`,
      [tenantId, type, details],
    );
    return row(r.rows[0]);
  }

  /**
   * How a running operation ended. Only a running one: an outcome once recorded is never
   * rewritten (a late failure path cannot turn a success into a failure). Whether it was recorded.
   */
  async finish(
    id: string,
    status: "succeeded" | "failed",
    details: {
      error?: string;
      logTail?: string;
      changes?: Record<string, number>;
      details?: Record<string, unknown>;
    } = {},
  ): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE operations SET status = $2, finished_at = now(), error = $3, log_tail = $4, changes = $5,
         details = coalesce(details, '{}'::jsonb) || coalesce($6, '{}'::jsonb)
       WHERE id = $1 AND status = 'running'`,
      [
        id,
        status,
        details.error ?? null,
        details.logTail ?? null,
        details.changes ?? null,
        details.details ?? null,
      ],
    );
    return r.rowCount === 1;
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

  /** The latest operation of each of these tenants (one index scan per tenant). */
  /**
   * How the tenant's latest engine run (up or destroy) other than `except` ended; undefined when
   * it never had one.
   */
  async lastEngineRun(tenantId: string, except: string): Promise<Operation["status"] | undefined> {
    const r = await this.pool.query(
      `SELECT status FROM operations WHERE tenant_id = $1 AND type IN ('up', 'destroy')
          AND id <> $2 ORDER BY started_at DESC LIMIT 1`,
      [tenantId, except],
    );
    return r.rows[0]?.status;
  }

  async latestFor(tenantIds: string[]): Promise<Map<string, Operation>> {
    const r = await this.pool.query(
      `SELECT o.* FROM unnest($1::text[]) AS t(id)
         CROSS JOIN LATERAL (SELECT * FROM operations WHERE tenant_id = t.id
                             ORDER BY started_at DESC LIMIT 1) o`,
      [tenantIds],
    );
    return new Map(r.rows.map((x) => [x.tenant_id as string, row(x)]));
  }
}
