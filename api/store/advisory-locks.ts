import type { Pool } from "pg";

/**
 * One holder at a time per key of a namespace, across every API process: a PostgreSQL session
 * advisory lock, held on a connection of its own for the work's length; a crashed process's lock
 * goes with its connection. Tenants: an `up`, a `destroy`, a backup and a restore of the same
 * tenant never overlap. Subscriptions: Kill Bill is read and the reading applied by one event at
 * a time, so an older reading is never written over a newer one.
 */
export class AdvisoryLocks {
  constructor(
    private readonly pool: Pool,
    private readonly namespace: "tenant" | "subscription",
  ) {}

  async withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const key = `odoo-saas-${this.namespace}:${id}`;
    try {
      await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [key]);
      try {
        return await work();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
      }
    } finally {
      client.release();
    }
  }
}
