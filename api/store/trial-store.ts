import type { Pool } from "pg";

/** One trial per customer, ever: which subscription had it. */
export class TrialStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Claims the customer's trial for `subscriptionId`. Returns the subscription that holds it: this
   * one when the customer had none (or it is already theirs), another one when it was used before.
   * One statement, so concurrent claims of one customer agree on a single holder.
   */
  async claim(c: {
    customerId: string;
    subscriptionId: string;
    tenantId: string;
  }): Promise<{ subscriptionId: string; tenantId: string; startedAt: string }> {
    await this.pool.query(
      `INSERT INTO trials (customer_id, subscription_id, tenant_id) VALUES ($1, $2, $3)
       ON CONFLICT (customer_id) DO NOTHING`,
      [c.customerId, c.subscriptionId, c.tenantId],
    );
    const r = await this.pool.query(
      "SELECT subscription_id, tenant_id, started_at FROM trials WHERE customer_id = $1",
      [c.customerId],
    );
    return {
      subscriptionId: r.rows[0].subscription_id,
      tenantId: r.rows[0].tenant_id,
      startedAt: r.rows[0].started_at.toISOString(),
    };
  }
}
