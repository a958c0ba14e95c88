import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PulumiFn, Stack } from "@pulumi/pulumi/automation";
import {
  DATABASE_PASSWORD_KEY,
  DATABASE_SUPERUSER_PASSWORD_KEY,
  ODOO_MASTER_PASSWORD_KEY,
  tenantProgram,
} from "../stacks/tenant/program";
import { parseTenantSpec, type TenantSpec } from "../stacks/tenant/tenant-spec";
import type { TenantDataLocation } from "../backup/tenant-backups";
import type {
  Outputs,
  PreviewOutcome,
  RunOptions,
  StackRunner,
  StackTarget,
  UpOutcome,
} from "./stack-runner";

/** The Pulumi project every tenant stack belongs to; the stack name is the tenant id. */
export const TENANT_PROJECT = "odoo-saas-tenant";

/** Builds the Pulumi program of a tenant (the real one by default; tests give provider-free ones). */
export type TenantProgramFactory = (spec: TenantSpec) => PulumiFn;

const noProgram: PulumiFn = async () => undefined;
const PASSWORD_CONFIG = `tenant:${DATABASE_PASSWORD_KEY}`;
const SUPERUSER_PASSWORD_CONFIG = `tenant:${DATABASE_SUPERUSER_PASSWORD_KEY}`;
const ODOO_MASTER_PASSWORD_CONFIG = `tenant:${ODOO_MASTER_PASSWORD_KEY}`;

/**
 * A tenant's generated secrets: its role's password, a dedicated server's superuser's, and Odoo's
 * master password (only its hash reaches Odoo).
 */
interface TenantSecrets {
  database: string;
  superuser: string;
  odooMaster: string;
}

/** Tenant lifecycle over the Automation API: what the API, the CLI and operators' scripts call. */
export class TenantStacks {
  private readonly programFor: TenantProgramFactory;

  constructor(
    private readonly runner: StackRunner,
    programFor?: TenantProgramFactory,
  ) {
    this.programFor =
      programFor ??
      ((spec) =>
        tenantProgram(spec, {
          platformStack: runner.settings.platformStack,
          postgresAdmin: runner.settings.postgresAdmin,
        }));
  }

  /** Creates or updates the tenant's stack to match the spec (validated first: nothing runs on a bad spec). */
  async up(specInput: unknown, opts?: RunOptions): Promise<UpOutcome> {
    return this.runner.up(this.target(parseTenantSpec(specInput)), opts);
  }

  /** What `up` would change, as a structured diff plus the engine's text. */
  async preview(specInput: unknown, opts?: RunOptions): Promise<PreviewOutcome> {
    return this.runner.preview(this.target(parseTenantSpec(specInput)), opts);
  }

  /** Removes every resource of the tenant (database, volume, runtime) and the stack itself. */
  async destroy(tenantId: string, opts?: RunOptions): Promise<Record<string, number>> {
    this.passwords.delete(tenantId);
    return this.runner.destroy(
      { project: TENANT_PROJECT, stack: tenantId, program: noProgram },
      opts,
    );
  }

  refresh(tenantId: string, opts?: RunOptions): Promise<Record<string, number>> {
    return this.runner.refresh(
      { project: TENANT_PROJECT, stack: tenantId, program: noProgram },
      opts,
    );
  }

  outputs(tenantId: string): Promise<Outputs> {
    return this.runner.outputs({ project: TENANT_PROJECT, stack: tenantId });
  }

  list(): Promise<string[]> {
    return this.runner.list(TENANT_PROJECT);
  }

  /**
   * Where the tenant's data is and who may act on it, for backups and restores: its stack's
   * outputs, its role's password (stack config) and, on the shared server, the platform's admin.
   * Throws StackNotFoundError for a tenant that was never provisioned.
   */
  async dataLocation(tenantId: string): Promise<TenantDataLocation | undefined> {
    const ref = { project: TENANT_PROJECT, stack: tenantId };
    const out = await this.runner.secretOutputs(ref);
    // A stack that declares no database and no volume holds no tenant data (nothing to back up).
    if (typeof out.databaseName !== "string" && typeof out.volumeName !== "string")
      return undefined;
    const stack = await this.runner.stack(ref, noProgram, false);
    const secrets = await this.secrets(tenantId, stack);
    const password = secrets.database;
    const role = out.databaseRole as string;
    const dedicated = out.databasePlacement === "dedicated";
    const [project, name] = this.runner.settings.platformStack.split("/").slice(-2);
    const platform = await this.runner.secretOutputs({ project, stack: name });
    const settings = platform.tenantSettings as {
      dataNetwork: string;
      postgres: { adminUser: string; tenantHost: string; tenantPort: number };
    };
    return {
      tenantId,
      database: {
        // Stacks from before these outputs existed: the platform's shared server.
        host: (out.databaseHost as string | undefined) ?? settings.postgres.tenantHost,
        port: Number(out.databasePort ?? settings.postgres.tenantPort),
        name: out.databaseName as string,
        role,
        password,
      },
      // A dedicated server's superuser is `postgres`, whose password only the control plane knows.
      admin: dedicated
        ? { user: "postgres", password: secrets.superuser }
        : { user: settings.postgres.adminUser, password: platform.postgresAdminPassword as string },
      volume: out.volumeName as string,
      network: (out.dataNetwork as string | undefined) ?? settings.dataNetwork,
    };
  }

  /** The shared PostgreSQL server's max_connections, as the platform stack exports it. */
  async sharedPostgresMaxConnections(): Promise<number | undefined> {
    const [project, name] = this.runner.settings.platformStack.split("/").slice(-2);
    const platform = await this.runner.secretOutputs({ project, stack: name });
    const settings = platform.tenantSettings as { postgres?: { maxConnections?: number } };
    return settings?.postgres?.maxConnections;
  }

  /** Secrets already read or generated, so a run costs no extra config read. */
  private readonly passwords = new Map<string, TenantSecrets>();

  private async secrets(tenantId: string, stack: Stack): Promise<TenantSecrets> {
    let secrets = this.passwords.get(tenantId);
    if (!secrets) {
      secrets = await ensureTenantSecrets(stack);
      this.passwords.set(tenantId, secrets);
    }
    return secrets;
  }

  private target(spec: TenantSpec): StackTarget {
    return {
      project: TENANT_PROJECT,
      stack: spec.tenantId,
      program: this.programFor(spec),
      prepare: async (stack) => Object.values(await this.secrets(spec.tenantId, stack)),
    };
  }
}

/**
 * The tenant's secrets: generated once each, kept encrypted in the stack's config (in its
 * persistent work directory), so every later run declares the same ones.
 */
async function ensureTenantSecrets(stack: Stack): Promise<TenantSecrets> {
  // A new stack's settings file has none yet: skip the CLI call that would decrypt them.
  const settingsFile = path.join(stack.workspace.workDir, `Pulumi.${stack.name}.yaml`);
  const settings = fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, "utf8") : "";
  const existing = settings.includes(`${PASSWORD_CONFIG}:`) ? await stack.getAllConfig() : {};
  const secret = async (key: string) => {
    const value = existing[key]?.value;
    if (value) return value;
    const generated = randomBytes(24).toString("base64url");
    await stack.setConfig(key, { value: generated, secret: true });
    return generated;
  };
  return {
    database: await secret(PASSWORD_CONFIG),
    superuser: await secret(SUPERUSER_PASSWORD_CONFIG),
    odooMaster: await secret(ODOO_MASTER_PASSWORD_CONFIG),
  };
}
