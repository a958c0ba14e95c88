import type { Pool } from "pg";
import type { UsageMeasurement, UsageUnit } from "../../catalog";

/** A tenant to measure now: running, sleeping or suspended; terminated ones once, for their last day. */
export interface MeterableTenant {
  id: string;
  plan: string;
  /** The day its measurement counts for: today, or a terminated tenant's last day. */
  day: string;
}

/** A day's peak of one unit, and what Kill Bill was told of it. */
export interface UsageDay {
  tenantId: string;
  unit: UsageUnit;
  day: string;
  amount: number;
  plan: string;
  measurements: number;
  lastMeasuredAt: string;
  status: "measured" | "recorded" | "not_billed" | "outside_window";
  subscriptionId: string | null;
  trackingId: string;
  recordedAt: string | null;
  killbillAnswer: string | null;
  attempts: number;
  lastError: string | null;
  correctedBy: string | null;
}

/** A tenant past one of its plan's caps. */
export interface OverLimit {
  tenantId: string;
  unit: UsageUnit;
  amount: number;
  cap: number;
  overSince: string;
  notifiedAt: string | null;
}

/** Kill Bill's idempotency key for one tenant, unit and day. */
export const trackingId = (tenantId: string, unit: string, day: string) =>
  `${tenantId}:${unit}:${day}`;

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

const dayOf = (r: Record<string, any>): UsageDay => ({
  tenantId: r.tenant_id,
  unit: r.unit,
  day: typeof r.day === "string" ? r.day : isoDay(r.day),
  amount: Number(r.amount),
  plan: r.plan,
  measurements: r.measurements,
  lastMeasuredAt: r.last_measured_at.toISOString(),
  status: r.status,
  subscriptionId: r.subscription_id,
  trackingId: trackingId(r.tenant_id, r.unit, typeof r.day === "string" ? r.day : isoDay(r.day)),
  recordedAt: r.recorded_at ? r.recorded_at.toISOString() : null,
  killbillAnswer: r.killbill_answer,
  attempts: r.attempts,
  lastError: r.last_error,
  correctedBy: r.corrected_by,
});

/**
 * Metered usage: measurements as taken, each day's peak per unit (kept with what Kill Bill
 * answered when it was recorded), and who is past a cap. Days are UTC days.
 */
export class UsageStore {
  constructor(private readonly pool: Pool) {}

  /** Provisioned tenants to measure as of `now` (`only`: that one, if it is to be). */
  async meterable(now: Date, only?: string): Promise<MeterableTenant[]> {
    const r = await this.pool.query(
      `SELECT t.id, t.spec->>'plan' AS plan,
              CASE WHEN t.desired_state = 'terminated' THEN (t.terminated_at AT TIME ZONE 'UTC')::date
                   ELSE ($1::timestamptz AT TIME ZONE 'UTC')::date END AS day
         FROM tenants t
        WHERE ($2::text IS NULL OR t.id = $2)
          AND t.observed_state IS NOT NULL AND t.observed_state <> 'deleted' AND t.deleted_at IS NULL
          AND (t.desired_state IN ('active', 'suspended')
               OR (t.desired_state = 'terminated' AND t.terminated_at IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM usage_measurements m
                                    WHERE m.tenant_id = t.id AND m.error IS NULL
                                      AND m.measured_at >= t.terminated_at)))
        ORDER BY t.id`,
      [now, only ?? null],
    );
    return r.rows.map((x) => ({ id: x.id, plan: x.plan, day: isoDay(x.day) }));
  }

  /**
   * Keeps a measurement, and each unit's day at its peak (a lower one later that day changes
   * nothing). A day already recorded keeps what Kill Bill has; the measurement is still kept.
   */
  async addMeasurement(
    m: { tenantId: string; plan: string; day: string; at: Date },
    found: UsageMeasurement,
    amounts: Record<UsageUnit, number>,
  ): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO usage_measurements (tenant_id, measured_at, day, plan, users, database_bytes, filestore_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [m.tenantId, m.at, m.day, m.plan, found.users, found.databaseBytes, found.filestoreBytes],
      );
      for (const [unit, amount] of Object.entries(amounts))
        await client.query(
          `INSERT INTO usage_days (tenant_id, unit, day, amount, plan, last_measured_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id, unit, day) DO UPDATE SET
             amount = CASE WHEN usage_days.status = 'measured'
                           THEN GREATEST(usage_days.amount, EXCLUDED.amount) ELSE usage_days.amount END,
             plan = CASE WHEN usage_days.status = 'measured' THEN EXCLUDED.plan ELSE usage_days.plan END,
             measurements = usage_days.measurements + 1,
             last_measured_at = EXCLUDED.last_measured_at`,
          [m.tenantId, unit, m.day, amount, m.plan, m.at],
        );
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** A measurement that failed, kept with its error (never a zero). */
  async addFailure(m: { tenantId: string; plan: string; day: string; at: Date }, error: string) {
    await this.pool.query(
      `INSERT INTO usage_measurements (tenant_id, measured_at, day, plan, error) VALUES ($1, $2, $3, $4, $5)`,
      [m.tenantId, m.at, m.day, m.plan, error],
    );
  }

  /** Days over (before `today`) not yet recorded, the oldest first. */
  async closedUnrecorded(today: string, limit = 1000): Promise<UsageDay[]> {
    const r = await this.pool.query(
      `SELECT * FROM usage_days WHERE status = 'measured' AND day < $1 ORDER BY day, tenant_id, unit LIMIT $2`,
      [today, limit],
    );
    return r.rows.map(dayOf);
  }

  async markRecorded(d: UsageDay, subscriptionId: string, answer: string): Promise<void> {
    await this.pool.query(
      `UPDATE usage_days SET status = 'recorded', subscription_id = $4, recorded_at = now(),
              killbill_answer = $5, attempts = attempts + 1, last_error = NULL
        WHERE tenant_id = $1 AND unit = $2 AND day = $3`,
      [d.tenantId, d.unit, d.day, subscriptionId, answer],
    );
  }

  async markSettled(d: UsageDay, status: "not_billed" | "outside_window", why: string) {
    await this.pool.query(
      `UPDATE usage_days SET status = $4, last_error = $5
        WHERE tenant_id = $1 AND unit = $2 AND day = $3 AND status = 'measured'`,
      [d.tenantId, d.unit, d.day, status, why],
    );
  }

  async markFailed(d: UsageDay, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE usage_days SET attempts = attempts + 1, last_error = $4
        WHERE tenant_id = $1 AND unit = $2 AND day = $3`,
      [d.tenantId, d.unit, d.day, error],
    );
  }

  /**
   * An operator's correction of a day Kill Bill does not have: the amount replaced and who said
   * so kept. A day still to send is sent with it on the next run; a day too late for Kill Bill
   * (billed by hand there) is acknowledged, and no longer alerted on.
   */
  async correct(
    tenantId: string,
    unit: UsageUnit,
    day: string,
    amount: number,
    by: string,
  ): Promise<UsageDay | undefined> {
    const r = await this.pool.query(
      `UPDATE usage_days SET amount = $4, corrected_by = $5,
              attempts = CASE WHEN status = 'measured' THEN 0 ELSE attempts END
        WHERE tenant_id = $1 AND unit = $2 AND day = $3 AND status IN ('measured', 'outside_window')
        RETURNING *`,
      [tenantId, unit, day, amount, by],
    );
    return r.rows[0] ? dayOf(r.rows[0]) : undefined;
  }

  async days(tenantId: string, from: string, to: string): Promise<UsageDay[]> {
    const r = await this.pool.query(
      `SELECT * FROM usage_days WHERE tenant_id = $1 AND day >= $2 AND day <= $3 ORDER BY day, unit`,
      [tenantId, from, to],
    );
    return r.rows.map(dayOf);
  }

  /** The tenant's latest measurement that succeeded, and the latest error after it. */
  async latest(tenantId: string) {
    const r = await this.pool.query(
      `SELECT (SELECT row_to_json(m) FROM usage_measurements m
                WHERE m.tenant_id = $1 AND m.error IS NULL ORDER BY measured_at DESC LIMIT 1) AS ok,
              (SELECT row_to_json(m) FROM usage_measurements m
                WHERE m.tenant_id = $1 AND m.error IS NOT NULL ORDER BY measured_at DESC LIMIT 1) AS failed`,
      [tenantId],
    );
    return r.rows[0] as {
      ok: {
        measured_at: string;
        users: number;
        database_bytes: string;
        filestore_bytes: string;
      } | null;
      failed: { measured_at: string; error: string } | null;
    };
  }

  /** Records that a tenant is past a cap (keeping when it first was); false if it already was. */
  async markOver(tenantId: string, unit: UsageUnit, amount: number, cap: number): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO usage_limits (tenant_id, unit, amount, cap, over_since) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (tenant_id, unit) DO UPDATE SET amount = EXCLUDED.amount, cap = EXCLUDED.cap
       RETURNING (xmax = 0) AS inserted`,
      [tenantId, unit, amount, cap],
    );
    return r.rows[0].inserted;
  }

  async clearOver(tenantId: string, unit: UsageUnit): Promise<void> {
    await this.pool.query(`DELETE FROM usage_limits WHERE tenant_id = $1 AND unit = $2`, [
      tenantId,
      unit,
    ]);
  }

  async markNotified(tenantId: string, unit: UsageUnit): Promise<void> {
    await this.pool.query(
      `UPDATE usage_limits SET notified_at = now() WHERE tenant_id = $1 AND unit = $2`,
      [tenantId, unit],
    );
  }

  /** Each tenant's caps passed, for the tenant views (one query for a page). */
  async overLimitsOf(ids: string[]): Promise<Map<string, OverLimit[]>> {
    const all = await this.overLimits(undefined, ids);
    const by = new Map<string, OverLimit[]>();
    for (const o of all) by.set(o.tenantId, [...(by.get(o.tenantId) ?? []), o]);
    return by;
  }

  async overLimits(tenantId?: string, ids?: string[]): Promise<OverLimit[]> {
    const r = await this.pool.query(
      `SELECT * FROM usage_limits
        WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text[] IS NULL OR tenant_id = ANY($2))
        ORDER BY tenant_id, unit`,
      [tenantId ?? null, ids ?? null],
    );
    return r.rows.map((x) => ({
      tenantId: x.tenant_id,
      unit: x.unit,
      amount: Number(x.amount),
      cap: Number(x.cap),
      overSince: x.over_since.toISOString(),
      notifiedAt: x.notified_at ? x.notified_at.toISOString() : null,
    }));
  }
}
