import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { formatIssues, loadCatalog, type Catalog } from "../../catalog";
import {
  tenantSettingsSchema,
  type TenantSettings,
} from "../../components/platform/tenant-settings";
import { OdooTenant } from "../../components/tenant/odoo-tenant";
import { GeneratedSecret } from "../../components/tenant/generated-secret";
import { defaultOdooImage } from "../../components/tenant/odoo-versions";
import { tenantNodePlacement } from "../../components/tenant/volume-node";
import type { TenantSpec } from "./tenant-spec";

/**
 * Stack config keys (namespace `tenant`) where a tenant's generated passwords were kept before
 * they moved into its state (GeneratedSecret): read once, to adopt them, then removed. The
 * database role's, a dedicated server's superuser's, and Odoo's master password.
 */
export const DATABASE_PASSWORD_KEY = "databasePassword";
export const DATABASE_SUPERUSER_PASSWORD_KEY = "databaseSuperuserPassword";
export const ODOO_MASTER_PASSWORD_KEY = "odooMasterPassword";

/** What tenant programs read of the platform: its tenant settings and its two secrets. */
export interface PlatformOutputs {
  tenantSettings: TenantSettings;
  postgresAdminPassword: string;
  filestoreKey?: string;
}

export interface TenantProgramOptions {
  /** Fully qualified platform stack name, e.g. `organization/odoo-saas-platform/prod`. */
  platformStack: string;
  catalog?: Catalog;
  /** This control plane's own way to the platform's PostgreSQL (else the platform's address). */
  postgresAdmin?: { host: string; port: number };
  /** The platform's outputs handed over directly (the API as a platform service): no StackReference. */
  platform?: PlatformOutputs;
}

/**
 * The per-tenant Pulumi program, built from a validated spec. Platform settings come from the
 * platform stack's outputs through a StackReference; the database password from stack config.
 */
export function tenantProgram(spec: TenantSpec, options: TenantProgramOptions): PulumiFn {
  const catalog = options.catalog ?? loadCatalog();
  const plan = catalog.plan(spec.plan);
  if (!plan) throw new Error(`unknown plan "${spec.plan}"`);
  return async () => {
    const given = options.platform;
    const platform = given
      ? undefined
      : new pulumi.StackReference("platform", { name: options.platformStack });
    const raw = given
      ? given.tenantSettings
      : (await platform!.getOutputDetails("tenantSettings")).value;
    const secretOutput = (key: "postgresAdminPassword" | "filestoreKey") =>
      given
        ? pulumi.secret(given[key] ?? "")
        : (platform!.requireOutput(key) as pulumi.Output<string>);
    const parsed = tenantSettingsSchema.safeParse(raw);
    if (!parsed.success)
      throw new Error(
        `platform stack ${options.platformStack} has no valid tenantSettings output:\n${formatIssues(parsed.error)}`,
      );
    const settings = parsed.data;
    // The tenant's passwords: generated once, kept in its state (every process and host running
    // the stack gets the same ones); a password from before is adopted as it is.
    const tenantConfig = new pulumi.Config("tenant");
    const generated = (key: string, part: string) =>
      pulumi.secret(
        new GeneratedSecret(`${spec.tenantId}-${part}`, { initial: tenantConfig.getSecret(key) })
          .value,
      );
    const password = generated(DATABASE_PASSWORD_KEY, "database-password");
    const superuserPassword = generated(DATABASE_SUPERUSER_PASSWORD_KEY, "superuser-password");
    const masterPassword = generated(ODOO_MASTER_PASSWORD_KEY, "odoo-master-password");
    // What the tenant's gateway presents to the API's waker; the API keeps only its hash (an
    // output), which is all it needs to check it.
    const gatewayToken = pulumi.secret(
      new GeneratedSecret(`${spec.tenantId}-gateway-token`, {}).value,
    );

    const tenant = new OdooTenant(spec.tenantId, {
      tenantId: spec.tenantId,
      customerId: spec.customerId,
      plan,
      odooVersion: spec.odooVersion,
      subdomain: spec.subdomain,
      customDomains: spec.customDomains,
      state: spec.state,
      gatewayToken,
      odooImage: settings.odooImages[spec.odooVersion] ?? defaultOdooImage(spec.odooVersion),
      templateDatabase: settings.templateDatabases[spec.odooVersion],
      databasePassword: password,
      databaseSuperuserPassword: superuserPassword,
      odooMasterPassword: masterPassword,
      databases: spec.databases,
      platform: {
        ...settings,
        edgeNetwork: { name: settings.edgeNetwork, id: settings.edgeNetworkId },
        dataNetwork: { name: settings.dataNetwork, id: settings.dataNetworkId },
        ...(settings.filestore.kind === "cephfs"
          ? { filestoreKey: secretOutput("filestoreKey") }
          : {}),
        ...(spec.node ? tenantNodePlacement(spec.node, spec.keptNodes, settings) : {}),
        postgres: {
          ...settings.postgres,
          ...(options.postgresAdmin
            ? { adminHost: options.postgresAdmin.host, adminPort: options.postgresAdmin.port }
            : {}),
          adminPassword: secretOutput("postgresAdminPassword"),
        },
      },
    });
    // Every output waits until the whole tenant was applied: a run that fails half-way leaves the
    // stack's outputs as the last successful run wrote them, describing what exists.
    const settled = <T>(value: pulumi.Input<T>) =>
      pulumi.all([tenant.applied, value]).apply(([, v]) => v as pulumi.Unwrap<T>);
    return {
      url: settled(tenant.url),
      hosts: settled(tenant.hosts),
      plan: settled(plan.id),
      state: settled(spec.state),
      odooVersion: settled(spec.odooVersion),
      databaseName: settled(tenant.databaseName),
      databaseRole: settled(tenant.databaseRole),
      databaseHost: settled(tenant.databaseHost),
      databasePort: settled(tenant.databasePort),
      databasePlacement: settled(tenant.databases.serving),
      keptDatabases: settled(tenant.databases.kept),
      dataNetwork: settled(settings.dataNetwork),
      runtime: settled(settings.runtime),
      runtimeName: settled(tenant.runtimeName),
      volumeName: settled(tenant.volumeName),
      gatewayTokenHash: settled(
        pulumi.unsecret(gatewayToken.apply((t) => createHash("sha256").update(t).digest("hex"))),
      ),
      // Secret outputs: backups and restores act as the tenant's role, or a dedicated server's
      // superuser, with these; an operator opens Odoo's database manager with the master password.
      databasePassword: settled(password),
      databaseSuperuserPassword: settled(superuserPassword),
      odooMasterPassword: settled(masterPassword),
    };
  };
}
