import { Option } from "commander";
import {
  StackRunner,
  TenantStacks,
  automationSettingsFromEnv,
  type AutomationSettings,
  type TenantProgramFactory,
} from "../automation";
import type { FleetOptions } from "../automation/fleet";
import type { Catalog } from "../catalog";
import type { TenantSpecInput } from "../stacks/tenant/tenant-spec";
import { AdminApi } from "./api-client";
import { loadSpecs } from "./tenant-source";

export interface CliDeps {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The tenant program; the real one by default. */
  programFor?: TenantProgramFactory;
  /** Settings; from the environment by default. */
  settings?: AutomationSettings;
  /** The plan catalog; the project's by default. */
  catalog?: Catalog;
  /** A terminal to draw progress bars on (stderr when it is one). */
  terminal?: NodeJS.WritableStream;
}

/** Exit codes: 0 done, 1 an operation failed, 2 the command or its input is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The command or its input is wrong (exit 2). */
export class UsageError extends Error {}

/** What every command group's registrar is given: output, the stacks, the specs, the API. */
export class CliContext {
  exitCode: number = EXIT.ok;
  private stacks?: TenantStacks;
  private settings?: AutomationSettings;

  constructor(readonly deps: CliDeps) {}

  out = (text: string) => this.deps.stdout(text.endsWith("\n") ? text : `${text}\n`);
  err = (text: string) => this.deps.stderr(text.endsWith("\n") ? text : `${text}\n`);
  json = (value: unknown) => this.out(JSON.stringify(value, null, 2));

  /** An operation failed: the command exits 1 once it is done. */
  failed(): void {
    this.exitCode = EXIT.failed;
  }

  automationSettings(): AutomationSettings {
    return (this.settings ??= this.deps.settings ?? automationSettingsFromEnv(this.deps.env));
  }

  tenantStacks(): TenantStacks {
    return (this.stacks ??= new TenantStacks(
      new StackRunner(this.automationSettings()),
      this.deps.programFor,
      { catalog: this.deps.catalog },
    ));
  }

  specs(opts: { specs?: string }): Promise<TenantSpecInput[]> {
    return loadSpecs({ specs: opts.specs, databaseUrl: this.deps.env.DATABASE_URL });
  }

  async specFor(id: string, opts: { specs?: string }): Promise<TenantSpecInput> {
    const found = (await this.specs(opts)).find((s) => s.tenantId === id);
    if (!found) throw new UsageError(`no spec for tenant ${id} in ${opts.specs ?? "the store"}`);
    return found;
  }

  /** The API (ODOO_SAAS_API_URL, ADMIN_TOKEN): backups and restores run there. */
  adminApi(): AdminApi {
    return AdminApi.fromEnv(this.deps.env);
  }

  /** A progress line per tenant of a fleet command. */
  progress(label: string): FleetOptions["onResult"] {
    return (r, done, total) =>
      this.err(
        `[${done}/${total}] ${r.tenantId}: ${r.ok ? label : `failed: ${r.error.split("\n")[0]}`} (${r.seconds.toFixed(1)}s)`,
      );
  }
}

/** `--specs <file>`: where tenant specs come from when not the API's store. */
export const specsOption = () =>
  new Option(
    "--specs <file>",
    "JSON array of tenant specs (default: the API store at DATABASE_URL)",
  );
