import { z } from "zod";
import { formatIssues, loadCatalog, type Catalog } from "../../catalog";
import {
  DNS_LABEL,
  NamingError,
  RESERVED_SUBDOMAINS,
  tenantNames,
} from "../../components/tenant/names";
import { DATABASE_PLACEMENTS } from "../../components/tenant/database-placement";
import { ODOO_VERSIONS } from "../../components/tenant/odoo-versions";

const hostname = z
  .string()
  .toLowerCase()
  .max(253)
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "a fully qualified hostname");

const nodeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, "a node's hostname");

/** The tenant's desired state as the API and operators express it. */
export const tenantSpecSchema = z.strictObject({
  /** DNS label, 3-40 characters: names the stack and every resource of the tenant. */
  tenantId: z
    .string()
    .min(3)
    .max(40)
    .regex(DNS_LABEL, "lower-case letters, digits and inner dashes")
    .refine((id) => !RESERVED_SUBDOMAINS.has(id), "is reserved by the platform"),
  /** Billing account key (Kill Bill account external key), lower-case letters, digits, _ or -. */
  customerId: z
    .string()
    .min(1)
    .max(40)
    .regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, _ and -"),
  plan: z.string(),
  /** Defaults to the tenant id. */
  subdomain: z
    .string()
    .regex(DNS_LABEL, "a DNS label")
    .refine((s) => !RESERVED_SUBDOMAINS.has(s), "is reserved by the platform")
    .optional(),
  odooVersion: z.enum(ODOO_VERSIONS),
  /** Where customer mail goes; a billing account may have none. */
  adminEmail: z.email().optional(),
  /** sleeping: billing lets it run, but it is idle: not running until a request wakes it. */
  state: z.enum(["active", "sleeping", "suspended"]).default("active"),
  customDomains: z.array(hostname).max(10).default([]),
  /**
   * Swarm on several nodes: the tenant node (hostname, one of the platform's swarmTenantNodes)
   * holding its local volumes, where its runtime and a dedicated server are pinned. Absent: the
   * platform's volume node. Only a move changes it.
   */
  node: nodeName.optional(),
  /** Nodes that keep a copy of the tenant's files until a move between nodes is done. */
  keptNodes: z.array(nodeName).max(1).default([]),
  /**
   * Where the database is served from and which others the stack keeps. Absent: where the stack
   * serves from now (a new stack: the plan's placement). Only a database move changes it.
   */
  databases: z
    .strictObject({
      serving: z.enum(DATABASE_PLACEMENTS),
      kept: z.array(z.enum(DATABASE_PLACEMENTS)).max(1).default([]),
      serversRunning: z.boolean().default(false),
    })
    .refine((d) => !d.kept.includes(d.serving), "a database cannot be both served and kept")
    .optional(),
});

export type TenantSpecInput = z.input<typeof tenantSpecSchema>;
export type TenantSpec = z.output<typeof tenantSpecSchema> & { subdomain: string };

export class InvalidTenantSpecError extends Error {
  override readonly name = "InvalidTenantSpecError";
  constructor(readonly problems: string[]) {
    super(`invalid tenant spec:\n${problems.join("\n")}`);
  }
}

/**
 * Validates a tenant spec completely before anything is declared: shape, plan, and the names it
 * produces (a database name beyond PostgreSQL's 63 bytes is rejected, never truncated).
 */
export function parseTenantSpec(input: unknown, catalog: Catalog = loadCatalog()): TenantSpec {
  const parsed = tenantSpecSchema.safeParse(input);
  if (!parsed.success) throw new InvalidTenantSpecError(formatIssues(parsed.error).split("\n"));
  const spec = { ...parsed.data, subdomain: parsed.data.subdomain ?? parsed.data.tenantId };
  const problems: string[] = [];
  if (spec.keptNodes.length && !spec.node)
    problems.push("keptNodes: only with node (a move between the nodes of a tenant placed on one)");
  if (!catalog.plan(spec.plan))
    problems.push(`plan: unknown plan "${spec.plan}" (known: ${catalog.planIds.join(", ")})`);
  try {
    tenantNames(spec.customerId, spec.tenantId);
  } catch (e) {
    if (!(e instanceof NamingError)) throw e;
    problems.push(`tenantId: ${e.message}`);
  }
  if (problems.length) throw new InvalidTenantSpecError(problems);
  return spec;
}
