import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { z } from "zod";
import { formatIssues } from "../catalog";
import { tenantSettingsSchema } from "../components/platform/tenant-settings";
import type { PlatformOutputs } from "../stacks/tenant/program";

/** Passphrase used only when development mode is explicitly on; never in production. */
export const DEVELOPMENT_PASSPHRASE = "odoo-saas-development-only";

const settingsShape = z.object({
  /** Workspaces and (by default) the file:// state live here. */
  ODOO_SAAS_DATA_DIR: z.string().default(path.join(os.homedir(), ".local", "share", "odoo-saas")),
  /** file://, postgres:// (Pulumi >= 3.176), s3://, gs://, azblob://. Default file:// under the data dir. */
  PULUMI_BACKEND_URL: z
    .string()
    .regex(
      /^(file|postgres|postgresql|s3|gs|azblob):\/\//,
      "a file://, postgres://, s3://, gs:// or azblob:// URL",
    )
    .optional(),
  PULUMI_CONFIG_PASSPHRASE: z.string().min(12, "at least 12 characters").optional(),
  /** `1` allows the built-in development passphrase; anything else requires a real one. */
  ODOO_SAAS_DEV: z.enum(["0", "1"]).default("0"),
  /** Directory with bin/pulumi; default: `pulumi` on PATH. */
  PULUMI_ROOT: z.string().optional(),
  /** Engine runs allowed at once across all stacks (each is a CLI process plus the program). */
  ODOO_SAAS_MAX_CONCURRENT_RUNS: z.coerce.number().int().min(1).max(64).default(4),
  /** Fully qualified platform stack the tenant programs reference. */
  ODOO_SAAS_PLATFORM_STACK: z.string().default("organization/odoo-saas-platform/dev"),
  /**
   * `host:port` this control plane reaches the platform's PostgreSQL at, when it is not the
   * address the platform exports (e.g. the API's container, on the data network).
   */
  ODOO_SAAS_POSTGRES_ADMIN_ADDRESS: z
    .string()
    .regex(/^[\w.-]+:\d{1,5}$/, "host:port")
    .optional(),
  /**
   * What tenant programs read of the platform (its `tenantSettings` output, as JSON), handed to a
   * control plane by the platform itself (the API as a platform service): tenant programs then
   * read no platform stack, and need no access to its state. With it, the platform's PostgreSQL
   * admin password and (CephFS) the filestore key.
   */
  ODOO_SAAS_PLATFORM_SETTINGS: z
    .string()
    .transform((text, ctx) => {
      try {
        const parsed = tenantSettingsSchema.safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
        ctx.addIssue({ code: "custom", message: formatIssues(parsed.error).replace(/\n/g, "; ") });
      } catch {
        ctx.addIssue({ code: "custom", message: "not JSON" });
      }
      return z.NEVER;
    })
    .optional(),
  ODOO_SAAS_PLATFORM_POSTGRES_ADMIN_PASSWORD: z.string().min(1).optional(),
  ODOO_SAAS_PLATFORM_FILESTORE_KEY: z.string().optional(),
});

/** The environment variables the automation layer reads. */
export const AUTOMATION_VARIABLES: readonly string[] = Object.keys(settingsShape.shape);

const settingsSchema = settingsShape.superRefine((env, ctx) => {
  if (env.ODOO_SAAS_PLATFORM_SETTINGS && !env.ODOO_SAAS_PLATFORM_POSTGRES_ADMIN_PASSWORD)
    ctx.addIssue({
      code: "custom",
      path: ["ODOO_SAAS_PLATFORM_POSTGRES_ADMIN_PASSWORD"],
      message: "required with ODOO_SAAS_PLATFORM_SETTINGS",
    });
  if (!env.PULUMI_CONFIG_PASSPHRASE && env.ODOO_SAAS_DEV !== "1")
    ctx.addIssue({
      code: "custom",
      path: ["PULUMI_CONFIG_PASSPHRASE"],
      message:
        "required (secrets in stack state are encrypted with it); set ODOO_SAAS_DEV=1 for a development default",
    });
});

export interface AutomationSettings {
  dataDir: string;
  backendUrl: string;
  passphrase: string;
  pulumiRoot?: string;
  maxConcurrentRuns: number;
  platformStack: string;
  /** Where this control plane reaches the platform's PostgreSQL, if not where the platform says. */
  postgresAdmin?: { host: string; port: number };
  /** The platform's outputs, handed over directly (else read from `platformStack`). */
  platform?: PlatformOutputs;
}

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/** Parses the automation settings from the environment, failing with every problem listed. */
export function automationSettingsFromEnv(
  rawEnv: NodeJS.ProcessEnv = process.env,
): AutomationSettings {
  const env = withSecretFiles(rawEnv);
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success)
    throw new SettingsError(`invalid automation settings:\n${formatIssues(parsed.error)}`);
  const e = parsed.data;
  const dataDir = path.resolve(e.ODOO_SAAS_DATA_DIR);
  return {
    dataDir,
    backendUrl: e.PULUMI_BACKEND_URL ?? `file://${path.join(dataDir, "state")}`,
    passphrase: e.PULUMI_CONFIG_PASSPHRASE ?? DEVELOPMENT_PASSPHRASE,
    pulumiRoot: e.PULUMI_ROOT,
    maxConcurrentRuns: e.ODOO_SAAS_MAX_CONCURRENT_RUNS,
    platformStack: e.ODOO_SAAS_PLATFORM_STACK,
    ...(e.ODOO_SAAS_POSTGRES_ADMIN_ADDRESS
      ? {
          postgresAdmin: {
            host: e.ODOO_SAAS_POSTGRES_ADMIN_ADDRESS.split(":")[0],
            port: Number(e.ODOO_SAAS_POSTGRES_ADMIN_ADDRESS.split(":")[1]),
          },
        }
      : {}),
    ...(e.ODOO_SAAS_PLATFORM_SETTINGS
      ? {
          platform: {
            tenantSettings: e.ODOO_SAAS_PLATFORM_SETTINGS,
            postgresAdminPassword: e.ODOO_SAAS_PLATFORM_POSTGRES_ADMIN_PASSWORD!,
            ...(e.ODOO_SAAS_PLATFORM_FILESTORE_KEY
              ? { filestoreKey: e.ODOO_SAAS_PLATFORM_FILESTORE_KEY }
              : {}),
          },
        }
      : {}),
  };
}

/**
 * `<KEY>_FILE` names a file holding `<KEY>` (Swarm's secret files), for the automation's own
 * variables, so the CLI run in the API's container reads them as the API does.
 */
function withSecretFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const key of AUTOMATION_VARIABLES) {
    const file = env[`${key}_FILE`];
    if (file && env[key] === undefined) {
      try {
        out[key] = fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
      } catch (e) {
        throw new SettingsError(
          `${key}_FILE: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
    }
  }
  return out;
}
