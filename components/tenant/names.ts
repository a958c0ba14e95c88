/** PostgreSQL truncates identifiers at 63 bytes (NAMEDATALEN - 1); longer names are rejected. */
export const POSTGRES_IDENTIFIER_MAX = 63;

/** Lower-case DNS label: what a tenant id and a subdomain must be. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Hostnames the platform keeps for itself under the base domain. */
export const RESERVED_SUBDOMAINS = new Set([
  "admin",
  "api",
  "app",
  "billing",
  "dashboard",
  "grafana",
  "kaui",
  "killbill",
  "mail",
  "postgres",
  "redis",
  "smtp",
  "static",
  "status",
  "traefik",
  "www",
]);

export class NamingError extends Error {
  override readonly name = "NamingError";
}

/** Names derived from a tenant's identity: one place, so nothing else builds them by hand. */
export interface TenantNames {
  /** Database and its owner role: `odoo_<customer>_<instance-short>`. */
  database: string;
  role: string;
  /** Docker container / Swarm service of the Odoo runtime. */
  runtime: string;
  /** Filestore volume. */
  volume: string;
  /** Dedicated PostgreSQL container / service, for tiers that have one. */
  dedicatedPostgres: string;
  /** Traefik router and service prefix. */
  router: string;
  /** The tenant's own network: its Odoo, one-shots and dedicated PostgreSQL are on it alone. */
  network: string;
  /** The container / service that joins that network to the platform's (tenant-gateway.ts). */
  gateway: string;
}

function identifierPart(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/**
 * The instance-short: the tenant id as an identifier part (dashes become underscores). Names that
 * fit PostgreSQL's 63 bytes are `odoo_<customer>_<instance>`; longer customer parts are cut.
 */
export function tenantNames(customerId: string, tenantId: string): TenantNames {
  const customer = identifierPart(customerId);
  const instance = identifierPart(tenantId);
  if (!customer || !instance)
    throw new NamingError("customer and tenant ids must contain letters or digits");
  // The tenant id alone is unique (and ids have no underscores, so its identifier part is too):
  // when the whole name would pass PostgreSQL's limit, the customer part is cut, never the tenant's.
  const room = POSTGRES_IDENTIFIER_MAX - "odoo__".length - instance.length;
  const database = `odoo_${customer.slice(0, room).replace(/_+$/, "")}_${instance}`;
  return {
    database,
    role: database,
    runtime: `odoo-${tenantId}`,
    volume: `odoo-${tenantId}-filestore`,
    dedicatedPostgres: `odoo-${tenantId}-postgres`,
    router: `odoo-${tenantId}`,
    network: `odoo-${tenantId}-net`,
    gateway: `odoo-${tenantId}-gateway`,
  };
}
