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
    private readonly namespace: "tenant" | "subscription" | "tenant-domains",
  ) {}

  async withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const key = `odoo-saas-${this.namespace}:${id}`;
    // If the server goes away meanwhile the lock goes with the connection; the work goes on (the
    // state backend's own stack lock still keeps two engine runs of one stack apart).
    let lost: Error | undefined;
    const onError = (err: Error) => (lost = err);
    client.on("error", onError);
    try {
      await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [key]);
      try {
        return await work();
      } finally {
        if (!lost)
          await client
            .query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key])
            .catch((err: Error) => (lost = err));
      }
    } finally {
      client.off("error", onError);
      client.release(lost); // a broken connection is closed, not reused
    }
  }
}
