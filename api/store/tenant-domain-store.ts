import type { Pool } from "pg";

export type DomainStatus = "pending" | "verified";

/** A customer's domain claimed by a tenant. */
export interface TenantDomain {
  domain: string;
  tenantId: string;
  /** What the owner puts in the TXT record that proves the domain is theirs. */
  token: string;
  status: DomainStatus;
  /** Why the last verification failed (null once verified, or before the first). */
  lastCheckError: string | null;
  lastCheckedAt: string | null;
  verifiedAt: string | null;
  createdAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const row = (r: any): TenantDomain => ({
  domain: r.domain,
  tenantId: r.tenant_id,
  token: r.token,
  status: r.status,
  lastCheckError: r.last_check_error,
  lastCheckedAt: iso(r.last_checked_at),
  verifiedAt: iso(r.verified_at),
  createdAt: r.created_at.toISOString(),
});

/** Custom domains and who holds them; the primary key keeps each with one tenant. */
export class TenantDomainStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Claims `domain` for the tenant: a new pending claim, the tenant's existing one as it is, or,
   * when another live tenant holds it, that holder (and no change). A deleted tenant's claim is
   * taken over.
   */
  async claim(
    tenantId: string,
    domain: string,
    token: string,
  ): Promise<{ claim: TenantDomain } | { heldBy: string }> {
    const r = await this.pool.query(
      `INSERT INTO tenant_domains AS d (domain, tenant_id, token, status)
       VALUES ($1, $2, $3, 'pending')
       ON CONFLICT (domain) DO UPDATE
         SET tenant_id = EXCLUDED.tenant_id, token = EXCLUDED.token, status = 'pending',
             last_check_error = NULL, last_checked_at = NULL, verified_at = NULL, created_at = now()
         WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id AND t.desired_state = 'deleted')
       RETURNING *`,
      [domain, tenantId, token],
    );
    if (r.rows[0]) return { claim: row(r.rows[0]) };
    const held = await this.get(domain);
    if (!held) return this.claim(tenantId, domain, token); // released meanwhile
    return held.tenantId === tenantId ? { claim: held } : { heldBy: held.tenantId };
  }

  async get(domain: string): Promise<TenantDomain | undefined> {
    const r = await this.pool.query("SELECT * FROM tenant_domains WHERE domain = $1", [domain]);
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  async list(tenantId: string): Promise<TenantDomain[]> {
    const r = await this.pool.query(
      "SELECT * FROM tenant_domains WHERE tenant_id = $1 ORDER BY domain",
      [tenantId],
    );
    return r.rows.map(row);
  }

  /** Records a verification: verified, or still pending with why not. */
  async checked(domain: string, tenantId: string, error: string | null): Promise<TenantDomain> {
    const r = await this.pool.query(
      `UPDATE tenant_domains
          SET last_checked_at = now(), last_check_error = $3,
              status = CASE WHEN $3::text IS NULL THEN 'verified' ELSE status END,
              verified_at = CASE WHEN $3::text IS NULL THEN coalesce(verified_at, now()) ELSE verified_at END
        WHERE domain = $1 AND tenant_id = $2 RETURNING *`,
      [domain, tenantId, error],
    );
    return row(r.rows[0]);
  }

  /** Releases the tenant's claim; false when it held none. */
  async release(domain: string, tenantId: string): Promise<boolean> {
    const r = await this.pool.query(
      "DELETE FROM tenant_domains WHERE domain = $1 AND tenant_id = $2",
      [domain, tenantId],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /** The tenant's verified domains: what its routes serve. */
  async verified(tenantId: string): Promise<string[]> {
    const r = await this.pool.query(
      "SELECT domain FROM tenant_domains WHERE tenant_id = $1 AND status = 'verified' ORDER BY domain",
      [tenantId],
    );
    return r.rows.map((x) => x.domain as string);
  }
}
