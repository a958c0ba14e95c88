import type { Pool } from "pg";

/** What the watch found: how long the monitoring has been silent, and what it claimed to tell. */
export interface HeartbeatCheck {
  /** Seconds since the last heartbeat, or since the watch was last armed if that is later. */
  silentSeconds: number;
  /** The last heartbeat; null: none since the watch began. */
  lastHeartbeatAt: Date | null;
  /** This check claimed the operator's "monitoring silent" mail (one process of all does). */
  silenceClaimed: boolean;
  /** This check claimed the "monitoring back" mail, ending the silence mailed at this time. */
  backAfterSilenceMailedAt: Date | null;
}

/** The monitoring's heartbeat, one row (migration 17). */
export class MonitoringHeartbeatStore {
  constructor(private readonly pool: Pool) {}

  async received(): Promise<void> {
    await this.pool.query(
      `INSERT INTO monitoring_heartbeat (received_at) VALUES (now())
       ON CONFLICT (only_row) DO UPDATE SET received_at = now()`,
    );
  }

  /**
   * The silence counts from now at the latest: an API process starting (after being down itself,
   * or with monitoring just enabled) gives the heartbeats their full time before it tells anyone.
   */
  async arm(): Promise<void> {
    await this.pool.query(
      `INSERT INTO monitoring_heartbeat (watched_since) VALUES (now())
       ON CONFLICT (only_row) DO UPDATE SET watched_since = now()`,
    );
  }

  /**
   * Claims at most one mail: a silence longer than `silenceSeconds` not yet told, or the end of
   * one that was. Each claim is one conditional update, so among all the API's processes exactly
   * one makes it.
   */
  async check(silenceSeconds: number): Promise<HeartbeatCheck> {
    await this.pool.query("INSERT INTO monitoring_heartbeat DEFAULT VALUES ON CONFLICT DO NOTHING");
    const silent = await this.pool.query(
      `UPDATE monitoring_heartbeat SET silence_mailed_at = now()
        WHERE silence_mailed_at IS NULL
          AND greatest(received_at, watched_since) < now() - make_interval(secs => $1)
        RETURNING silence_mailed_at`,
      [silenceSeconds],
    );
    const back = await this.pool.query(
      `UPDATE monitoring_heartbeat h SET silence_mailed_at = NULL
         FROM (SELECT silence_mailed_at FROM monitoring_heartbeat FOR UPDATE) before
        WHERE h.silence_mailed_at IS NOT NULL AND h.received_at > h.silence_mailed_at
        RETURNING before.silence_mailed_at`,
    );
    const state = await this.pool.query(
      `SELECT received_at,
              extract(epoch FROM now() - greatest(received_at, watched_since))::float8 AS silent
         FROM monitoring_heartbeat`,
    );
    return {
      silentSeconds: state.rows[0].silent,
      lastHeartbeatAt: state.rows[0].received_at,
      silenceClaimed: silent.rowCount === 1,
      backAfterSilenceMailedAt: back.rows[0]?.silence_mailed_at ?? null,
    };
  }

  /** Hands a claim back (its mail could not be written): the next check makes it again. */
  async unclaim(silenceMailedAt: Date | null): Promise<void> {
    await this.pool.query("UPDATE monitoring_heartbeat SET silence_mailed_at = $1", [
      silenceMailedAt,
    ]);
  }
}
