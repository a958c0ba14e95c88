import type { Catalog, Plan } from "../../catalog";

/** Connections kept for the administrator, backups and the API itself. */
export const RESERVED_CONNECTIONS = 20;

/** How the platform's PgBouncer pools tenants' connections (tenant settings `postgres.pooler`). */
export interface PoolerSizing {
  /** The smallest transaction pool a tenant gets (server connections of its database). */
  minTransactionPoolSize: number;
}

/** Odoo's processes: HTTP workers, cron workers and the gevent (real-time) worker. */
export function odooProcesses(plan: Plan): number {
  return plan.odoo.workers + plan.odoo.maxCronThreads + 1;
}

/**
 * A tenant's transaction pool behind the pooler: one more connection than its plan's cron
 * workers, at least the platform's minimum. A cron worker holds two transactions at once (the one
 * that locked its job, the job's own), so with one connection per cron worker every cron worker
 * could hold one and wait for a second, forever. The platform runs a pooler per pool size.
 */
export function transactionPoolSize(plan: Plan, pooler: PoolerSizing): number {
  return Math.max(pooler.minTransactionPoolSize, plan.odoo.maxCronThreads + 1);
}

/** The pool sizes of the shared plans: one pooler each. */
export function transactionPoolSizes(catalog: Catalog, pooler: PoolerSizing): number[] {
  return [
    ...new Set(
      catalog.plans
        .filter((p) => p.database.placement === "shared")
        .map((p) => transactionPoolSize(p, pooler)),
    ),
  ].sort((a, b) => a - b);
}

/**
 * The server connections a tenant on the shared server reserves. Direct, its plan's connection
 * limit: each Odoo process may fill its own pool. Through the pooler, one session per process on
 * `postgres` (cron and bus workers LISTEN there; any process NOTIFYs there) and the transaction
 * pool of its database.
 */
export function sharedConnectionReservation(plan: Plan, pooler?: PoolerSizing): number {
  return pooler
    ? odooProcesses(plan) + transactionPoolSize(plan, pooler)
    : plan.database.connectionLimit;
}

/**
 * The CONNECTION LIMIT of a shared tenant's role and database: its reservation, plus one direct
 * session behind the pooler for a backup or restore (these run a few at a time, within the
 * platform's reserve).
 */
export function sharedConnectionLimit(plan: Plan, pooler?: PoolerSizing): number {
  return pooler ? sharedConnectionReservation(plan, pooler) + 1 : plan.database.connectionLimit;
}

/** The largest reservation of the plans placed on the shared server. */
function largestReservation(catalog: Catalog, pooler?: PoolerSizing): number {
  return Math.max(
    0,
    ...catalog.plans
      .filter((p) => p.database.placement === "shared")
      .map((p) => sharedConnectionReservation(p, pooler)),
  );
}

/**
 * The shared server's default `max_connections`: room for `sharedTenants` tenants each at the
 * largest reservation of the plans placed on it, plus the reserve.
 */
export function defaultMaxConnections(
  catalog: Catalog,
  sharedTenants: number,
  pooler?: PoolerSizing,
): number {
  return RESERVED_CONNECTIONS + sharedTenants * largestReservation(catalog, pooler);
}

/** The session pool on `postgres` per tenant: a session for every process of the largest plan. */
export function sessionPoolSize(catalog: Catalog): number {
  return Math.max(
    1,
    ...catalog.plans.filter((p) => p.database.placement === "shared").map(odooProcesses),
  );
}

/**
 * Whether the shared server admits a tenant on `plan` (a new one, or `tenantId` changing plan):
 * every tenant it holds reserves its plan's connections, and their sum plus the reserve must
 * stay within `maxConnections`. Says why not, with the figures, when it does not.
 */
export function sharedPostgresAdmits(
  catalog: Catalog,
  maxConnections: number,
  held: { id: string; plan: string }[],
  change: { tenantId: string; plan: string },
  pooler?: PoolerSizing,
): { ok: true } | { ok: false; reason: string } {
  const reserved = (plan: string) => {
    const p = catalog.plan(plan);
    return p && p.database.placement === "shared" ? sharedConnectionReservation(p, pooler) : 0;
  };
  const needed = reserved(change.plan);
  if (needed === 0) return { ok: true };
  const used = held
    .filter((t) => t.id !== change.tenantId)
    .reduce((n, t) => n + reserved(t.plan), 0);
  if (RESERVED_CONNECTIONS + used + needed <= maxConnections) return { ok: true };
  return {
    ok: false,
    reason: `the shared PostgreSQL server is full: max_connections ${maxConnections}, ${used} reserved by its tenants and ${RESERVED_CONNECTIONS} by the platform; plan ${change.plan} needs ${needed}${pooler ? " through the pooler" : ""} (raise postgres.maxConnections or add a server)`,
  };
}
