import type { Pool } from "pg";

export type DesiredState = "active" | "suspended" | "deleted";

/** The desired spec of a tenant without its state (state is kept apart, as billing moves it). */
export interface TenantDesiredSpec {
  plan: string;
  odooVersion: string;
  adminEmail: string;
  subdomain?: string;
  customDomains?: string[];
}

export interface Tenant {
  id: string;
  customerId: string;
  spec: TenantDesiredSpec;
  desiredState: DesiredState;
  desiredGeneration: number;
  observedGeneration: number;
  observedState: DesiredState | null;
  outputs: Record<string, unknown> | null;
  lastError: string | null;
  source: "killbill" | "admin";
  killbillSubscriptionId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DesiredInput {
  id: string;
  customerId: string;
  spec: TenantDesiredSpec;
  desiredState: DesiredState;
  source: "killbill" | "admin";
  killbillSubscriptionId?: string;
}

const row = (r: any): Tenant => ({
  id: r.id,
  customerId: r.customer_id,
  spec: r.spec,
  desiredState: r.desired_state,
  desiredGeneration: r.desired_generation,
  observedGeneration: r.observed_generation,
  observedState: r.observed_state,
  outputs: r.outputs,
  lastError: r.last_error,
  source: r.source,
  killbillSubscriptionId: r.killbill_subscription_id,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const canonical = (v: unknown) => JSON.stringify(v, Object.keys(v as object).sort());

/** Tenants' desired and observed state (level-triggered: a change bumps the desired generation). */
export class TenantStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Sets the desired state. Returns the tenant and whether anything changed: the same desired
   * state written again (a duplicate or re-delivered event) changes nothing, not even the generation.
   */
  async setDesired(input: DesiredInput): Promise<{ tenant: Tenant; changed: boolean }> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const current = (
        await client.query("SELECT * FROM tenants WHERE id = $1 FOR UPDATE", [input.id])
      ).rows[0];
      let result;
      if (!current) {
        result = await client.query(
          `INSERT INTO tenants (id, customer_id, spec, desired_state, source, killbill_subscription_id)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
          [
            input.id,
            input.customerId,
            input.spec,
            input.desiredState,
            input.source,
            input.killbillSubscriptionId ?? null,
          ],
        );
      } else {
        const same =
          current.customer_id === input.customerId &&
          current.desired_state === input.desiredState &&
          canonical(current.spec) === canonical(input.spec);
        if (same) {
          await client.query("COMMIT");
          return { tenant: row(current), changed: false };
        }
        result = await client.query(
          `UPDATE tenants SET customer_id = $2, spec = $3, desired_state = $4,
             killbill_subscription_id = COALESCE($5, killbill_subscription_id),
             desired_generation = desired_generation + 1, updated_at = now()
           WHERE id = $1 RETURNING *`,
          [
            input.id,
            input.customerId,
            input.spec,
            input.desiredState,
            input.killbillSubscriptionId ?? null,
          ],
        );
      }
      await client.query("COMMIT");
      return { tenant: row(result.rows[0]), changed: true };
    } catch (e) {
      await client.query("ROLLBACK");
      throw e;
    } finally {
      client.release();
    }
  }

  async get(id: string): Promise<Tenant | undefined> {
    const r = await this.pool.query("SELECT * FROM tenants WHERE id = $1", [id]);
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  async list(): Promise<Tenant[]> {
    return (await this.pool.query("SELECT * FROM tenants ORDER BY id")).rows.map(row);
  }

  /** Tenants whose observed generation lags the desired one (what the sweeper re-enqueues). */
  async lagging(): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT id FROM tenants WHERE observed_generation < desired_generation
         AND failed_generation IS DISTINCT FROM desired_generation ORDER BY id`,
    );
    return r.rows.map((x) => x.id);
  }

  /** Records a successful reconcile of `generation` (never moves the observed generation back). */
  async recordObserved(
    id: string,
    generation: number,
    state: DesiredState,
    outputs: Record<string, unknown> | null,
  ) {
    await this.pool.query(
      `UPDATE tenants SET observed_generation = GREATEST(observed_generation, $2), observed_state = $3,
         outputs = $4, last_error = NULL, updated_at = now() WHERE id = $1`,
      [id, generation, state, outputs],
    );
  }

  /** The reconcile of `generation` failed for good: the sweeper stops retrying it. */
  async recordGaveUp(id: string, generation: number) {
    await this.pool.query("UPDATE tenants SET failed_generation = $2 WHERE id = $1", [
      id,
      generation,
    ]);
  }

  /** An operator asks for another try. */
  async clearGaveUp(id: string) {
    await this.pool.query("UPDATE tenants SET failed_generation = NULL WHERE id = $1", [id]);
  }

  async recordError(id: string, error: string) {
    await this.pool.query("UPDATE tenants SET last_error = $2, updated_at = now() WHERE id = $1", [
      id,
      error,
    ]);
  }
}
