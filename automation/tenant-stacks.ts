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
import { engineOptions } from "../components/docker-endpoint";
import { resourcesOnNode } from "../components/tenant/volume-node";
import { tenantNames } from "../components/tenant/names";
import { StackNotFoundError } from "./errors";
import { dockerEndpoint, removeOrphanedNetwork } from "./docker-engine";
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
/** Where stacks made before the passwords moved into state keep them (read to adopt them). */
const LEGACY_PASSWORD_CONFIG = [
  DATABASE_PASSWORD_KEY,
  DATABASE_SUPERUSER_PASSWORD_KEY,
  ODOO_MASTER_PASSWORD_KEY,
].map((key) => `tenant:${key}`);

/** The tenant program's secret outputs: its generated passwords. */
const PASSWORD_OUTPUTS = ["databasePassword", "databaseSuperuserPassword", "odooMasterPassword"];

/** The passwords the control plane acts with on a tenant's databases. */
interface TenantPasswords {
  /** The tenant's role. */
  database?: string;
  /** A dedicated server's superuser (`postgres`). */
  superuser?: string;
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
    const { spec, missing } = await this.withStackState(parseTenantSpec(specInput));
    const fingerprint = await this.fingerprint(spec);
    return this.runner.up(this.target(spec, fingerprint, missing), opts);
  }

  /**
   * What a run needs from the stack, in one read of its outputs, made only when needed:
   *  - a spec that does not say where its databases are (an operator's spec file) keeps the
   *    stack's: whatever its plan, no run started here serves from or drops another database than
   *    the stack holds. Only a database move (the API's) changes them;
   *  - the passwords the stack holds, so that the engine's errors are redacted (once a process).
   * `missing`: the read found no stack (the run creates it without asking again).
   */
  private async withStackState(spec: TenantSpec): Promise<{ spec: TenantSpec; missing: boolean }> {
    if (spec.databases && this.known.has(spec.tenantId)) return { spec, missing: false };
    const out = await this.runner.secretOutputs(this.ref(spec.tenantId)).catch((e) => {
      if (e instanceof StackNotFoundError) return undefined;
      throw e;
    });
    this.remember(
      spec.tenantId,
      PASSWORD_OUTPUTS.map((key) => out?.[key] as string | undefined),
    );
    if (!out) return { spec, missing: true };
    if (spec.databases) return { spec, missing: false };
    const placement = (v: unknown): v is DatabasePlacement =>
      DATABASE_PLACEMENTS.includes(v as DatabasePlacement);
    if (!placement(out.databasePlacement)) return { spec, missing: false }; // the plan's placement
    const kept = Array.isArray(out.keptDatabases) ? out.keptDatabases.filter(placement) : [];
    const databases = { serving: out.databasePlacement, kept, serversRunning: false };
    return { spec: { ...spec, databases }, missing: false };
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
    const { spec, missing } = await this.withStackState(parseTenantSpec(specInput));
    return this.runner.preview(this.target(spec, await this.fingerprint(spec), missing), opts);
  }

  /** Removes every resource of the tenant (database, volume, runtime) and the stack itself. */
  async destroy(tenantId: string, opts?: RunOptions): Promise<Record<string, number>> {
    this.known.delete(tenantId);
    return this.runner.destroy(
      { project: TENANT_PROJECT, stack: tenantId, program: noProgram },
      opts,
    );
  }

  /**
   * Forgets what the tenant's stack holds on a node lost for good (its volumes, their releases,
   * the node's engine): nothing is deleted, nothing can be. Returns the URNs forgotten.
   */
  forgetNode(tenantId: string, hostname: string): Promise<string[]> {
    return this.runner.forget({ ...this.ref(tenantId), program: noProgram }, (resources) =>
      resourcesOnNode(resources, hostname),
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
   * moves: from the tenant's names and the platform (never from a run's outputs), its passwords
   * (the stack's state) and, on the shared server, the platform's admin. undefined for a stack
   * that holds no tenant data; throws StackNotFoundError for a tenant never provisioned.
   */
  async dataLocation(
    /** `node`: where the store says its volumes are (a tenant node of a multi-node Swarm). */
    tenant: { id: string; customerId: string; node?: string | null },
    placement: DatabasePlacement,
  ): Promise<TenantDataLocation | undefined> {
    const ref = { project: TENANT_PROJECT, stack: tenant.id };
    const out = await this.runner.secretOutputs(ref);
    // A stack that declares no database and no volume holds no tenant data (nothing to back up).
    if (typeof out.databaseName !== "string" && typeof out.volumeName !== "string")
      return undefined;
    const secrets = await this.passwordsOf(tenant.id, out);
    const names = tenantNames(tenant.customerId, tenant.id);
    const platform = await this.platformOutputs();
    const platformStack = this.runner.settings.platformStack;
    if (!platform)
      throw new StackNotFoundError(`stack ${platformStack} does not exist`, platformStack);
    const settings = platform.tenantSettings as {
      dataNetwork: string;
      postgres: { adminUser: string; tenantHost: string; tenantPort: number };
      tenantNodes?: Record<string, string>;
    };
    // On a tenant node, the agent runs on that node's engine, where the volume is.
    const node = tenant.node ?? undefined;
    const engine = node ? settings.tenantNodes?.[node] : undefined;
    if (node && !engine)
      throw new Error(
        `tenant ${tenant.id} is on node ${node}, which the platform no longer lists in swarmTenantNodes`,
      );
    const dedicated = placement === "dedicated";
    return {
      tenantId: tenant.id,
      database: {
        host: dedicated ? names.dedicatedPostgres : settings.postgres.tenantHost,
        port: dedicated ? 5432 : settings.postgres.tenantPort,
        name: names.database,
        role: names.role,
        password: secrets.database ?? "",
      },
      // A dedicated server's superuser is `postgres`, whose password only the control plane knows.
      admin: dedicated
        ? { user: "postgres", password: secrets.superuser ?? "" }
        : { user: settings.postgres.adminUser, password: platform.postgresAdminPassword as string },
      volume: names.volume,
      networks: [names.network, settings.dataNetwork],
      ...(engine ? { engine: engineOptions(engine) } : {}),
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

  /** Tenants' passwords as last read, so a run costs no extra read (and errors are redacted). */
  private readonly known = new Map<string, string[]>();

  /**
   * The tenant's passwords from its state (its program generates them there, so any process on
   * any host reads the same), else from the stack config of a stack not updated since they moved.
   */
  private async passwordsOf(tenantId: string, secretOutputs: Outputs): Promise<TenantPasswords> {
    const text = (v: unknown) => (typeof v === "string" && v ? v : undefined);
    let database = text(secretOutputs.databasePassword);
    let superuser = text(secretOutputs.databaseSuperuserPassword);
    if (!database) {
      const stack = await this.runner.stack(this.ref(tenantId), noProgram, false);
      const legacy = await legacyPasswords(stack);
      database = legacy[LEGACY_PASSWORD_CONFIG[0]];
      superuser ??= legacy[LEGACY_PASSWORD_CONFIG[1]];
    }
    this.remember(tenantId, [database, superuser]);
    return { database, superuser };
  }

  /** Keeps what was found (a new stack has nothing yet: its next run looks again). */
  private remember(tenantId: string, values: (string | undefined)[]): void {
    const found = values.filter((v): v is string => !!v);
    if (found.length)
      this.known.set(tenantId, [...new Set([...(this.known.get(tenantId) ?? []), ...found])]);
  }

  private ref(tenantId: string) {
    return { project: TENANT_PROJECT, stack: tenantId };
  }

  private target(spec: TenantSpec, fingerprint: string, knownMissing: boolean): StackTarget {
    const program = this.programFor(spec);
    const engines = async () => {
      const nodes = (await this.platformSettings())?.tenantNodes ?? {};
      return [spec.node, ...spec.keptNodes].flatMap((n) => (n && nodes[n] ? [nodes[n]] : []));
    };
    return {
      project: TENANT_PROJECT,
      stack: spec.tenantId,
      knownMissing,
      engines,
      program: async () => ({ ...((await program()) ?? {}), [FINGERPRINT_OUTPUT]: fingerprint }),
      // A tenant network an earlier run created as its engine went away, unknown to the state.
      recover: async (error) =>
        removeOrphanedNetwork(error, spec.tenantId, [dockerEndpoint(), ...(await engines())]),
      // What the engine may quote in an error: the passwords the stack holds (withStackState read
      // its outputs), and those a stack from before keeps in its config.
      prepare: async (stack) => {
        this.remember(spec.tenantId, Object.values(await legacyPasswords(stack)));
        return this.known.get(spec.tenantId) ?? [];
      },
      // Once the state holds them, the copies a stack from before kept in its work directory go.
      succeeded: async (stack) => {
        if (hasLegacyPasswords(stack)) await stack.removeAllConfig(LEGACY_PASSWORD_CONFIG);
      },
    };
  }
}

function hasLegacyPasswords(stack: Stack): boolean {
  const settingsFile = path.join(stack.workspace.workDir, `Pulumi.${stack.name}.yaml`);
  if (!fs.existsSync(settingsFile)) return false;
  const settings = fs.readFileSync(settingsFile, "utf8");
  return LEGACY_PASSWORD_CONFIG.some((key) => settings.includes(`${key}:`));
}

/** The passwords a stack made before they moved into state keeps in its config ({} for none). */
async function legacyPasswords(stack: Stack): Promise<Record<string, string>> {
  // Most work directories have none: skip the CLI call that would decrypt the config.
  if (!hasLegacyPasswords(stack)) return {};
  const config = await stack.getAllConfig();
  return Object.fromEntries(
    LEGACY_PASSWORD_CONFIG.filter((key) => config[key]?.value).map((k) => [k, config[k].value]),
  );
}
