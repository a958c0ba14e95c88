import type { Pool } from "pg";

/** An awake tenant that may sleep, and how long it has been idle. */
export interface AwakeTenant {
  id: string;
  plan: string;
  idleSeconds: number;
}

/** A sleeping tenant and how long it has slept. */
export interface SleepingTenant {
  id: string;
  plan: string;
  asleepSeconds: number;
}

/**
 * Idle tenants' sleep, on the tenants table: when each slept, when its gateway last reported it
 * in use. Every decision is re-checked by the statement that writes it (a row lock), so a wake and
 * a sleep, or twenty wakes, racing for one tenant apply once. Times are the database's.
 */
export class TenantSleepStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Tenants of these plans that could sleep: active as billing and the operator have it, awake,
   * converged, in no move. Idle since their last use or their last change, whichever is later.
   */
  async awake(plans: string[]): Promise<AwakeTenant[]> {
    const r = await this.pool.query(
      `SELECT id, spec->>'plan' AS plan,
              extract(epoch FROM now() - GREATEST(last_activity_at, updated_at)) AS idle
         FROM tenants WHERE ${SLEEPABLE} AND spec->>'plan' = ANY($1) ORDER BY id`,
      [plans],
    );
    return r.rows.map((x) => ({ id: x.id, plan: x.plan, idleSeconds: Number(x.idle) }));
  }

  async asleep(): Promise<SleepingTenant[]> {
    const r = await this.pool.query(
      `SELECT id, spec->>'plan' AS plan, extract(epoch FROM now() - sleeping_since) AS asleep
         FROM tenants WHERE sleeping_since IS NOT NULL ORDER BY id`,
    );
    return r.rows.map((x) => ({ id: x.id, plan: x.plan, asleepSeconds: Number(x.asleep) }));
  }

  /** Puts the tenant to sleep if it still may and has been idle `idleSeconds`; false otherwise. */
  async sleep(id: string, idleSeconds: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE tenants SET sleeping_since = now(), desired_generation = desired_generation + 1,
              updated_at = now()
        WHERE id = $1 AND ${SLEEPABLE}
          AND GREATEST(last_activity_at, updated_at) <= now() - make_interval(secs => $2)`,
      [id, idleSeconds],
    );
    return r.rowCount === 1;
  }

  /** Wakes the tenant if it sleeps (its idle time starts over); false if it was awake. */
  async wake(id: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE tenants SET sleeping_since = NULL, last_activity_at = now(),
              desired_generation = desired_generation + 1, updated_at = now()
        WHERE id = $1 AND sleeping_since IS NOT NULL`,
      [id],
    );
    return r.rowCount === 1;
  }

  /** Its gateway saw the tenant in use. */
  async recordActivity(id: string): Promise<void> {
    await this.pool.query("UPDATE tenants SET last_activity_at = now() WHERE id = $1", [id]);
  }

  /** The hash of the token the tenant's gateway presents (its stack's output), if any. */
  async gatewayTokenHash(id: string): Promise<string | undefined> {
    const r = await this.pool.query(
      "SELECT outputs->>'gatewayTokenHash' AS hash FROM tenants WHERE id = $1 AND desired_state <> 'deleted'",
      [id],
    );
    return r.rows[0]?.hash ?? undefined;
  }
}

/** What a tenant must be to be put to sleep: billing, an operator and a change all come first. */
const SLEEPABLE = `desired_state = 'active' AND observed_state = 'active' AND sleeping_since IS NULL
  AND NOT operator_hold AND observed_generation = desired_generation
  AND node_move IS NULL AND database_move IS NULL`;
