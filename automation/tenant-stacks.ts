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
import { loadCatalog, type Catalog } from "../catalog";
import {
  DATABASE_PLACEMENTS,
  tenantDatabases,
  type DatabasePlacement,
} from "../components/tenant/database-placement";
import type { TenantSettings } from "../components/platform/tenant-settings";
import { tenantNames } from "../components/tenant/names";
import { StackNotFoundError } from "./errors";
import {
  FINGERPRINT_OUTPUT,
  inputsFingerprint,
  platformFingerprint,
  programVersion,
} from "./inputs-fingerprint";
import type {
  Outputs,
  PreviewOutcome,
  ResourceChange,
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

export interface TenantStacksOptions {
  catalog?: Catalog;
  /** How long the platform's outputs read for fingerprints are reused (default 30 s). */
  platformCacheMs?: number;
}

/** Tenant lifecycle over the Automation API: what the API, the CLI and operators' scripts call. */
export class TenantStacks {
  private readonly programFor: TenantProgramFactory;
  private readonly catalog: Catalog;
  private platform?: { read: Promise<string>; at: number };

  constructor(
    private readonly runner: StackRunner,
    programFor?: TenantProgramFactory,
    private readonly options: TenantStacksOptions = {},
  ) {
    this.catalog = options.catalog ?? loadCatalog();
    this.programFor =
      programFor ??
      ((spec) =>
        tenantProgram(spec, {
          platformStack: runner.settings.platformStack,
          platform: runner.settings.platform,
          postgresAdmin: runner.settings.postgresAdmin,
          catalog: this.catalog,
        }));
  }

  /**
   * Creates or updates the tenant's stack to match the spec (validated first: nothing runs on a
   * bad spec). The stack records the fingerprint of its inputs as an output.
   */
  async up(specInput: unknown, opts?: RunOptions): Promise<UpOutcome> {
    const spec = await this.withDatabases(parseTenantSpec(specInput));
    const fingerprint = await this.fingerprint(spec);
    return this.runner.up(this.target(spec, fingerprint), opts);
  }

  /**
   * A spec that does not say where its databases are (an operator's spec file) keeps the stack's:
   * whatever its plan, no run started here serves from or drops another database than the stack
   * holds. Only a database move (the API's) changes them.
   */
  private async withDatabases(spec: TenantSpec): Promise<TenantSpec> {
    if (spec.databases) return spec;
    const out = await this.outputs(spec.tenantId).catch((e) => {
      if (e instanceof StackNotFoundError) return {} as Outputs;
      throw e;
    });
    const placement = (v: unknown): v is DatabasePlacement =>
      DATABASE_PLACEMENTS.includes(v as DatabasePlacement);
    if (!placement(out.databasePlacement)) return spec; // a new stack: the plan's placement
    const kept = Array.isArray(out.keptDatabases) ? out.keptDatabases.filter(placement) : [];
    return { ...spec, databases: { serving: out.databasePlacement, kept, serversRunning: false } };
  }

  /**
   * The fingerprint of everything the tenant's program depends on (spec, plan, platform
   * outputs, program code): no engine run, and the platform's outputs are read once per
   * `platformCacheMs`.
   */
  async fingerprint(specInput: unknown): Promise<string> {
    const spec = parseTenantSpec(specInput);
    const plan = this.catalog.plan(spec.plan);
    if (!plan) throw new Error(`unknown plan "${spec.plan}"`);
    return inputsFingerprint({
      // A spec that names no databases declares the plan's: the same inputs, the same fingerprint.
      spec: { ...spec, databases: tenantDatabases(plan, spec.databases) },
      plan,
      platform: await this.platformPart(),
      program: programVersion(),
    });
  }

  private platformPart(): Promise<string> {
    const maxAge = this.options.platformCacheMs ?? 30_000;
    if (!this.platform || Date.now() - this.platform.at > maxAge) {
      const read = this.platformOutputs().then((outputs) =>
        platformFingerprint({ outputs, postgresAdmin: this.runner.settings.postgresAdmin }),
      );
      this.platform = { read, at: Date.now() };
      read.catch(() => (this.platform = undefined)); // an error is not kept
    }
    return this.platform.read;
  }

  /**
   * The platform's outputs: as handed to this control plane (the API as a platform service), else
   * read from the platform stack; null when there is none (programs that read no platform).
   */
  private async platformOutputs(): Promise<Outputs | null> {
    const given = this.runner.settings.platform;
    if (given) return { ...given };
    const [project, name] = this.runner.settings.platformStack.split("/").slice(-2);
    if (!project || !name) return null;
    return this.runner.secretOutputs({ project, stack: name }).catch((e) => {
      if (e instanceof StackNotFoundError) return null;
      throw e;
    });
  }

  /** What `up` would change, as a structured diff plus the engine's text. */
  async preview(specInput: unknown, opts?: RunOptions): Promise<PreviewOutcome> {
    const spec = await this.withDatabases(parseTenantSpec(specInput));
    return this.runner.preview(this.target(spec, await this.fingerprint(spec)), opts);
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

  /** The fingerprint the stack's last `up` recorded; undefined for a stack without one. */
  async appliedFingerprint(tenantId: string): Promise<string | undefined> {
    const outputs = await this.outputs(tenantId).catch((e) => {
      if (e instanceof StackNotFoundError) return {} as Outputs;
      throw e;
    });
    const value = outputs[FINGERPRINT_OUTPUT];
    return typeof value === "string" ? value : undefined;
  }

  /** Resources of the tenant changed or deleted out of band (no change made). */
  drift(tenantId: string, opts?: RunOptions): Promise<ResourceChange[]> {
    return this.runner.drift(
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
   * Where the tenant's database at `placement` is and who may act on it, for backups, restores and
   * moves: from the tenant's names and the platform (never from a run's outputs), its role's
   * password (stack config) and, on the shared server, the platform's admin. undefined for a stack
   * that holds no tenant data; throws StackNotFoundError for a tenant never provisioned.
   */
  async dataLocation(
    tenant: { id: string; customerId: string },
    placement: DatabasePlacement,
  ): Promise<TenantDataLocation | undefined> {
    const ref = { project: TENANT_PROJECT, stack: tenant.id };
    const out = await this.runner.secretOutputs(ref);
    // A stack that declares no database and no volume holds no tenant data (nothing to back up).
    if (typeof out.databaseName !== "string" && typeof out.volumeName !== "string")
      return undefined;
    const stack = await this.runner.stack(ref, noProgram, false);
    const secrets = await this.secrets(tenant.id, stack);
    const names = tenantNames(tenant.customerId, tenant.id);
    const platform = await this.platformOutputs();
    const platformStack = this.runner.settings.platformStack;
    if (!platform)
      throw new StackNotFoundError(`stack ${platformStack} does not exist`, platformStack);
    const settings = platform.tenantSettings as {
      dataNetwork: string;
      postgres: { adminUser: string; tenantHost: string; tenantPort: number };
    };
    const dedicated = placement === "dedicated";
    return {
      tenantId: tenant.id,
      database: {
        host: dedicated ? names.dedicatedPostgres : settings.postgres.tenantHost,
        port: dedicated ? 5432 : settings.postgres.tenantPort,
        name: names.database,
        role: names.role,
        password: secrets.database,
      },
      // A dedicated server's superuser is `postgres`, whose password only the control plane knows.
      admin: dedicated
        ? { user: "postgres", password: secrets.superuser }
        : { user: settings.postgres.adminUser, password: platform.postgresAdminPassword as string },
      volume: names.volume,
      network: settings.dataNetwork,
    };
  }

  /** The shared PostgreSQL server's max_connections, as the platform stack exports it. */
  async sharedPostgresMaxConnections(): Promise<number | undefined> {
    return (await this.platformSettings())?.postgres?.maxConnections;
  }

  /**
   * The platform's `tenantSettings` output (read at most once per `platformCacheMs`); undefined
   * without a platform stack.
   */
  platformSettings(): Promise<Partial<TenantSettings> | undefined> {
    const maxAge = this.options.platformCacheMs ?? 30_000;
    if (!this.settings || Date.now() - this.settings.at > maxAge) {
      const read = this.platformOutputs().then(
        (o) => (o?.tenantSettings ?? undefined) as Partial<TenantSettings> | undefined,
      );
      this.settings = { read, at: Date.now() };
      read.catch(() => (this.settings = undefined));
    }
    return this.settings.read;
  }

  private settings?: { read: Promise<Partial<TenantSettings> | undefined>; at: number };

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

  private target(spec: TenantSpec, fingerprint: string): StackTarget {
    const program = this.programFor(spec);
    return {
      project: TENANT_PROJECT,
      stack: spec.tenantId,
      program: async () => ({ ...((await program()) ?? {}), [FINGERPRINT_OUTPUT]: fingerprint }),
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
