import type { Pool } from "pg";

/** A subscription that bills a customer who has no instance of it (or may not have one). */
export interface BillingProblem {
  subscriptionId: string;
  accountId: string | null;
  tenantId: string | null;
  problem: string;
  firstSeen: string;
  lastSeen: string;
}

const row = (r: any): BillingProblem => ({
  subscriptionId: r.subscription_id,
  accountId: r.account_id,
  tenantId: r.tenant_id,
  problem: r.problem,
  firstSeen: r.first_seen.toISOString(),
  lastSeen: r.last_seen.toISOString(),
});

/** Billing problems, open until the subscription is seen in good order (or ends). */
export class BillingProblemStore {
  constructor(private readonly pool: Pool) {}

  /** Records (or refreshes) a problem; true when operators have not been told of it yet. */
  async report(p: Omit<BillingProblem, "firstSeen" | "lastSeen">): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO billing_problems (subscription_id, account_id, tenant_id, problem)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (subscription_id) DO UPDATE SET account_id = $2, tenant_id = $3, problem = $4,
         last_seen = now(),
         first_seen = CASE WHEN billing_problems.resolved_at IS NULL THEN billing_problems.first_seen ELSE now() END,
         notified_at = CASE WHEN billing_problems.resolved_at IS NULL THEN billing_problems.notified_at END,
         resolved_at = NULL
       RETURNING notified_at`,
      [p.subscriptionId, p.accountId, p.tenantId, p.problem],
    );
    return r.rows[0].notified_at === null;
  }

  async markNotified(subscriptionId: string): Promise<void> {
    await this.pool.query(
      "UPDATE billing_problems SET notified_at = now() WHERE subscription_id = $1",
      [subscriptionId],
    );
  }

  async resolve(subscriptionId: string): Promise<void> {
    await this.pool.query(
      "UPDATE billing_problems SET resolved_at = now() WHERE subscription_id = $1 AND resolved_at IS NULL",
      [subscriptionId],
    );
  }

  async open(): Promise<BillingProblem[]> {
    const r = await this.pool.query(
      "SELECT * FROM billing_problems WHERE resolved_at IS NULL ORDER BY first_seen",
    );
    return r.rows.map(row);
  }

  async countOpen(): Promise<number> {
    const r = await this.pool.query(
      "SELECT count(*)::int AS n FROM billing_problems WHERE resolved_at IS NULL",
    );
    return r.rows[0].n;
  }
}
