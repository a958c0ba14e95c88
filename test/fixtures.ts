import type { Tenant } from "../api/domain/tenant";

/**
 * The `tenantSettings` output of the platform program with
 * `baseDomain=odoo.example.com` and `traefik.acmeEmail` set, everything else default. The platform
 * test expects exactly this, and the tenant program test feeds it through a StackReference: the
 * contract between the two stacks is checked from both sides.
 */
export const defaultTenantSettings = {
  runtime: "container",
  baseDomain: "odoo.example.com",
  entryPoint: "websecure",
  certResolver: "letsencrypt",
  edgeNetwork: "saas-edge",
  dataNetwork: "saas-data",
  edgeNetworkId: "platform-edge-id",
  dataNetworkId: "platform-data-id",
  postgres: {
    adminHost: "127.0.0.1",
    adminPort: 5432,
    adminUser: "saas_admin",
    sslMode: "disable",
    tenantHost: "saas-postgres",
    tenantPort: 5432,
    maxConnections: 440,
  },
  filestore: { kind: "local" },
  dedicatedPostgresImage: "postgres:16",
  tenantGatewayImage: "odoo-saas/tenant-gateway:latest",
  odooImages: {},
  templateDatabases: {},
  odooHealthcheckIntervalSeconds: 2,
  odooHealthcheckSteadySeconds: 120,
  swarmEndpointMode: "vip",
  edge: { hstsSeconds: 31536000, maxRequestBodyBytes: 134217728 },
};

/** A tenant as the store returns it: billed, active, converged on standard; `patch` wins. */
export function tenantFixture(patch: Partial<Tenant> = {}): Tenant {
  return {
    id: "acme",
    customerId: "acme-corp",
    spec: { plan: "standard", odooVersion: "17", adminEmail: "o@acme.example" },
    desiredState: "active",
    desiredGeneration: 3,
    observedGeneration: 3,
    gaveUpGeneration: null,
    observedState: "active",
    outputs: null,
    lastError: null,
    source: "killbill",
    killbillSubscriptionId: "s-old",
    killbillAccountId: "a-1",
    billingState: "active",
    billingStatus: "paid",
    billingEndsOn: null,
    operatorHold: false,
    suspendReason: null,
    terminatedAt: null,
    dataKeptUntil: null,
    deletedAt: null,
    skipFinalBackup: false,
    drift: null,
    databasePlacement: "shared",
    node: null,
    nodeMove: null,
    retiredDatabases: [],
    databaseMove: null,
    appliedSpec: null,
    sleepingSince: null,
    lastActivityAt: null,
    createdAt: "",
    updatedAt: "",
    ...patch,
  };
}
