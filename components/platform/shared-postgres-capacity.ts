import type { Catalog } from "../../catalog";

/** Connections kept for the administrator, backups and the API itself. */
export const RESERVED_CONNECTIONS = 20;

/**
 * The shared server's default `max_connections`: room for `sharedTenants` tenants each at the
 * largest connection limit of the plans placed on it, plus the reserve.
 */
export function defaultMaxConnections(catalog: Catalog, sharedTenants: number): number {
  const largest = Math.max(
    0,
    ...catalog.plans
      .filter((p) => p.database.placement === "shared")
      .map((p) => p.database.connectionLimit),
  );
  return RESERVED_CONNECTIONS + sharedTenants * largest;
}

/**
 * Whether the shared server admits a tenant on `plan` (a new one, or `tenantId` changing plan):
 * every tenant it holds reserves its plan's connection limit, and their sum plus the reserve must
 * stay within `maxConnections`. Says why not, with the figures, when it does not.
 */
export function sharedPostgresAdmits(
  catalog: Catalog,
  maxConnections: number,
  held: { id: string; plan: string }[],
  change: { tenantId: string; plan: string },
): { ok: true } | { ok: false; reason: string } {
  const limit = (plan: string) => {
    const p = catalog.plan(plan);
    return p && p.database.placement === "shared" ? p.database.connectionLimit : 0;
  };
  const needed = limit(change.plan);
  if (needed === 0) return { ok: true };
  const used = held.filter((t) => t.id !== change.tenantId).reduce((n, t) => n + limit(t.plan), 0);
  if (RESERVED_CONNECTIONS + used + needed <= maxConnections) return { ok: true };
  return {
    ok: false,
    reason: `the shared PostgreSQL server is full: max_connections ${maxConnections}, ${used} reserved by its tenants and ${RESERVED_CONNECTIONS} by the platform; plan ${change.plan} needs ${needed} (raise postgres.maxConnections or add a server)`,
  };
}
