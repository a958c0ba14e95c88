import type { Pool } from "pg";

/** What failed: one webhook event, one subscription, or one account (its bundles unreadable). */
export type QuarantineKind = "event" | "subscription" | "account";

export interface QuarantineEntry {
  key: string;
  kind: QuarantineKind;
  subjectId: string;
  accountId: string | null;
  tenantId: string | null;
  reason: string;
  /** What made us try (an event, the resync, an operator). */
  cause: string | null;
  attempts: number;
  firstFailed: string;
  lastFailed: string;
  nextAttemptAt: string;
}

const row = (r: any): QuarantineEntry => ({
  key: r.key,
  kind: r.kind,
  subjectId: r.subject_id,
  accountId: r.account_id,
  tenantId: r.tenant_id,
  reason: r.reason,
  cause: r.cause,
  attempts: r.attempts,
  firstFailed: r.first_failed.toISOString(),
  lastFailed: r.last_failed.toISOString(),
  nextAttemptAt: r.next_attempt_at.toISOString(),
});

export const quarantineKey = (kind: QuarantineKind, id: string) => `${kind}:${id}`;

/**
 * Billing work that failed, kept apart with its reason while everything else goes on, and retried
 * on its own with growing delays until it succeeds (then resolved).
 */
export class BillingQuarantineStore {
  /** `firstRetryMs`: the delay after the first failure; it doubles with each one, up to 30 min. */
  constructor(
    private readonly pool: Pool,
    private readonly firstRetryMs = 10_000,
  ) {}

  /**
   * Records a failure (or another one of the same unit): its attempts and next try. The entry,
   * and whether operators have been told of it yet.
   */
  async fail(e: {
    kind: QuarantineKind;
    subjectId: string;
    accountId?: string | null;
    tenantId?: string | null;
    reason: string;
    cause?: string | null;
  }): Promise<{ entry: QuarantineEntry; notified: boolean }> {
    const key = quarantineKey(e.kind, e.subjectId);
    const r = await this.pool.query(
      `INSERT INTO billing_quarantine (key, kind, subject_id, account_id, tenant_id, reason, cause, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET
         account_id = coalesce($4, billing_quarantine.account_id),
         tenant_id = coalesce($5, billing_quarantine.tenant_id),
         reason = $6, cause = coalesce($7, billing_quarantine.cause), last_failed = now(),
         attempts = CASE WHEN billing_quarantine.resolved_at IS NULL THEN billing_quarantine.attempts + 1 ELSE 1 END,
         first_failed = CASE WHEN billing_quarantine.resolved_at IS NULL THEN billing_quarantine.first_failed ELSE now() END,
         notified_at = CASE WHEN billing_quarantine.resolved_at IS NULL THEN billing_quarantine.notified_at END,
         next_attempt_at = now() + LEAST(interval '30 minutes', $8 * interval '1 millisecond' * power(2,
           CASE WHEN billing_quarantine.resolved_at IS NULL THEN LEAST(billing_quarantine.attempts, 10) ELSE 0 END)),
         resolved_at = NULL
       RETURNING *`,
      [
        key,
        e.kind,
        e.subjectId,
        e.accountId ?? null,
        e.tenantId ?? null,
        e.reason,
        e.cause ?? null,
        this.firstRetryMs,
      ],
    );
    const x = r.rows[0];
    return { entry: row(x), notified: x.notified_at !== null };
  }

  async markNotified(key: string): Promise<void> {
    await this.pool.query("UPDATE billing_quarantine SET notified_at = now() WHERE key = $1", [
      key,
    ]);
  }

  /** The unit works again. */
  async resolve(kind: QuarantineKind, subjectId: string): Promise<void> {
    await this.pool.query(
      "UPDATE billing_quarantine SET resolved_at = now() WHERE key = $1 AND resolved_at IS NULL",
      [quarantineKey(kind, subjectId)],
    );
  }

  /** An open entry (undefined once resolved). */
  async get(key: string): Promise<QuarantineEntry | undefined> {
    const r = await this.pool.query(
      "SELECT * FROM billing_quarantine WHERE key = $1 AND resolved_at IS NULL",
      [key],
    );
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  /** Entries whose next attempt is due. */
  async due(limit = 50): Promise<QuarantineEntry[]> {
    const r = await this.pool.query(
      `SELECT * FROM billing_quarantine WHERE resolved_at IS NULL AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $1`,
      [limit],
    );
    return r.rows.map(row);
  }

  async open(): Promise<QuarantineEntry[]> {
    const r = await this.pool.query(
      "SELECT * FROM billing_quarantine WHERE resolved_at IS NULL ORDER BY first_failed",
    );
    return r.rows.map(row);
  }

  async countOpen(): Promise<Record<QuarantineKind, number>> {
    const r = await this.pool.query(
      "SELECT kind, count(*)::int AS n FROM billing_quarantine WHERE resolved_at IS NULL GROUP BY kind",
    );
    const counts = { event: 0, subscription: 0, account: 0 };
    for (const x of r.rows) counts[x.kind as QuarantineKind] = x.n;
    return counts;
  }
}
