import type { Pool } from "pg";

/**
 * One operation at a time per tenant, across every API process: an `up`, a `destroy`, a backup
 * and a restore of the same tenant never overlap. A PostgreSQL session advisory lock, held on a
 * connection of its own for the operation's length; a crashed process's lock goes with its
 * connection.
 */
export class TenantLocks {
  constructor(private readonly pool: Pool) {}

  async withLock<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const key = `odoo-saas-tenant:${tenantId}`;
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
