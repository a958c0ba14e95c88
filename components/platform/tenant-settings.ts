import { z } from "zod";
import { DEFAULT_EDGE_POLICY } from "../edge-policy";
import { filestoreBackendSchema } from "../tenant/filestore";
import { ODOO_VERSIONS } from "../tenant/odoo-versions";

/**
 * What the platform stack exports for tenant stacks, as one plain (non-secret) output named
 * `tenantSettings`; the PostgreSQL admin password travels separately as the secret output
 * `postgresAdminPassword`. Tenant programs validate it, so a platform/tenant mismatch fails
 * with a clear message instead of a half-declared stack.
 */
export const tenantSettingsSchema = z.object({
  runtime: z.enum(["container", "swarm"]),
  baseDomain: z.string().min(1),
  entryPoint: z.string().min(1),
  certResolver: z.string().optional(),
  edgeNetwork: z.string().min(1),
  dataNetwork: z.string().min(1),
  /** Swarm services attach by id. */
  edgeNetworkId: z.string().min(1),
  dataNetworkId: z.string().min(1),
  postgres: z.object({
    adminHost: z.string().min(1),
    adminPort: z.number().int(),
    adminUser: z.string().min(1),
    sslMode: z.enum(["disable", "require", "verify-ca", "verify-full"]),
    tenantHost: z.string().min(1),
    tenantPort: z.number().int(),
    /** The shared server's max_connections: the API admits tenants on it up to this. */
    maxConnections: z.number().int().optional(),
    /**
     * The platform's PgBouncers, when tenants' Odoo connects through them (others connect
     * directly): `<hostPrefix>-<pool size>` for each transaction pool size the shared plans need.
     */
    pooler: z
      .object({
        hostPrefix: z.string().min(1),
        port: z.number().int(),
        minTransactionPoolSize: z.number().int().min(1),
      })
      .optional(),
  }),
  filestore: filestoreBackendSchema,
  dedicatedPostgresImage: z.string().min(1),
  /** Each tenant's gateway between its own network and the platform's (tenant-gateway.ts). */
  tenantGatewayImage: z.string().min(1),
  /**
   * Where tenants' gateways ask the API to wake a sleeping tenant and report its use (the API as
   * the gateways reach it). Absent: gateways only forward, and no tenant is put to sleep.
   */
  waker: z
    .object({
      url: z.url(),
      /** How long a request waits for a waking (or restarting) Odoo before a 503. */
      holdSeconds: z.number().int().min(1).default(60),
      /** How often a gateway reports that its tenant is in use. */
      activityReportSeconds: z.number().int().min(1).default(60),
    })
    .optional(),
  /** Odoo image per major version. */
  odooImages: z.partialRecord(z.enum(ODOO_VERSIONS), z.string()),
  /** Pre-initialised template database per major version, when the platform has one. */
  templateDatabases: z.partialRecord(z.enum(ODOO_VERSIONS), z.string()).default({}),
  odooHealthcheckIntervalSeconds: z.number().int().min(1).default(2),
  odooHealthcheckSteadySeconds: z.number().int().min(5).default(120),
  swarmEndpointMode: z.enum(["vip", "dnsrr"]).default("vip"),
  /** Swarm: the node holding local volumes (`node.id == …` or `node.hostname == …` constraint). */
  swarmVolumeConstraint: z.string().optional(),
  /** Swarm on several nodes: tenant nodes by hostname, with their engines' Docker endpoints. */
  tenantNodes: z.record(z.string(), z.string()).optional(),
  /** A development platform's cap on tenants' CPU and memory limits (a host smaller than the plans). */
  tenantLimitCap: z
    .object({ cpus: z.number().positive().optional(), memoryMb: z.number().int().optional() })
    .optional(),
  /** The HTTPS port tenants answer on, when it is not 443: part of their URL. */
  publicHttpsPort: z.number().int().positive().optional(),
  /** What the edge adds to tenants' responses and refuses of their requests (components/edge-policy.ts). */
  edge: z
    .object({
      hstsSeconds: z.number().int().min(0).default(DEFAULT_EDGE_POLICY.hstsSeconds),
      maxRequestBodyBytes: z
        .number()
        .int()
        .positive()
        .default(DEFAULT_EDGE_POLICY.maxRequestBodyBytes),
    })
    .prefault({}),
});

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
