import * as pulumi from "@pulumi/pulumi";
import { formatIssues } from "../../catalog";
import { Platform } from "../../components/platform/platform";
import { platformConfigSchema } from "../../components/platform/platform-config";

/** Reads the stack's config (every key of the schema; objects as structured config). */
function readConfig(config: pulumi.Config): unknown {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(platformConfigSchema.shape)) {
    const text = config.get(key);
    if (text === undefined) continue;
    // Structured values (`pulumi config set --path`, objects, numbers, booleans) arrive as JSON.
    try {
      raw[key] = JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  return raw;
}

/** The API's secret environment variables and the secret config keys they come from. */
export const API_SECRET_CONFIG_KEYS = {
  DATABASE_URL: "apiDatabaseUrl",
  ADMIN_TOKEN: "apiAdminToken",
  KILLBILL_WEBHOOK_SECRET: "apiWebhookSecret",
  KILLBILL_API_SECRET: "apiKillbillApiSecret",
  PULUMI_CONFIG_PASSPHRASE: "apiPulumiPassphrase",
  SMTP_URL: "apiSmtpUrl",
  KILLBILL_PASSWORD: "apiKillbillPassword",
  BACKUP_PASSWORD: "apiBackupPassword",
  /** What Prometheus presents to list the tenants it probes (nothing else). */
  MONITORING_TOKEN: "apiMonitoringToken",
} as const;

function apiSecretEnv(config: pulumi.Config): Record<string, pulumi.Input<string>> {
  const env: Record<string, pulumi.Input<string>> = {};
  for (const [variable, key] of Object.entries(API_SECRET_CONFIG_KEYS)) {
    const value = config.getSecret(key);
    if (value !== undefined) env[variable] = value;
  }
  return env;
}

/**
 * The platform program (what `pulumi up` runs through Pulumi.yaml, and what the operator CLI
 * runs inline). Config is validated first: a mistake lists every problem with its key.
 */
export function platformProgram() {
  const config = new pulumi.Config();
  const parsed = platformConfigSchema.safeParse(readConfig(config));
  if (!parsed.success)
    throw new pulumi.RunError(
      `invalid platform config (pulumi config set ...):\n${formatIssues(parsed.error)}`,
    );
  const platform = new Platform("platform", {
    config: parsed.data,
    postgresAdminPassword: config.requireSecret("postgresAdminPassword"),
    killbillDatabasePassword: config.getSecret("killbillDatabasePassword"),
    apiDatabasePassword: config.getSecret("apiDatabasePassword"),
    cephfsSecret: config.getSecret("cephfsSecret"),
    apiSecretEnv: apiSecretEnv(config),
  });
  return {
    tenantSettings: platform.tenantSettings,
    postgresAdminPassword: platform.postgresAdminPassword,
    filestoreKey: platform.filestoreKey,
    urls: platform.urls,
  };
}
