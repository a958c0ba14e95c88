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
    maxConnections: 660,
  },
  filestore: { kind: "local" },
  dedicatedPostgresImage: "postgres:16",
  odooImages: {},
  templateDatabases: {},
  odooHealthcheckIntervalSeconds: 10,
  swarmEndpointMode: "vip",
};
