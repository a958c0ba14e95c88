import * as fs from "node:fs";
import { z } from "zod";
import { automationSettingsFromEnv, type AutomationSettings } from "../automation";
import { AUTOMATION_VARIABLES } from "../automation/settings";
import { formatIssues } from "../catalog";

const secret = (what: string) => z.string().min(16, `${what}: at least 16 characters`);

/** A comma-separated setting as its non-empty, trimmed items. */
const commaList = (v: string) =>
  v
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

const schema = z.object({
  // Not 8080: that is Kill Bill's own default port (KILLBILL_URL), and the two often share a host.
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Loopback by default; set 0.0.0.0 in a container. */
  HOST: z.string().default("127.0.0.1"),
  DATABASE_URL: z.string().default("postgres://odoo_saas:odoo_saas@127.0.0.1:5432/odoo_saas"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  /** Bearer token of the admin API. */
  ADMIN_TOKEN: secret("ADMIN_TOKEN"),
  /**
   * Bearer token Prometheus presents for the tenants to probe (GET /monitoring/tenant-targets),
   * which is all it allows; unset, the admin token is asked for there.
   */
  MONITORING_TOKEN: secret("MONITORING_TOKEN").optional(),
  /** Path secret of the Kill Bill callback: POST /webhooks/killbill/<secret>. */
  KILLBILL_WEBHOOK_SECRET: secret("KILLBILL_WEBHOOK_SECRET"),
  /**
   * During a rotation, the secret Kill Bill may still use: both are accepted until Kill Bill's
   * callback is re-pointed (`odoo-saas killbill setup`) and this is unset.
   */
  KILLBILL_WEBHOOK_SECRET_PREVIOUS: secret("KILLBILL_WEBHOOK_SECRET_PREVIOUS").optional(),
  KILLBILL_URL: z.url().default("http://127.0.0.1:8080"),
  /**
   * Where Kill Bill reaches this API (e.g. http://saas-api:3000 on the control network): set, the
   * API makes its Kill Bill tenant ready at start (tenant, catalog, overdue policy, the callback
   * `<base>/webhooks/killbill/<secret>`), retrying until Kill Bill answers, as
   * `odoo-saas killbill setup` does.
   */
  KILLBILL_CALLBACK_BASE: z.url().optional(),
  KILLBILL_USERNAME: z.string().default("admin"),
  KILLBILL_PASSWORD: z.string().min(1),
  KILLBILL_API_KEY: z.string().min(1),
  KILLBILL_API_SECRET: z.string().min(1),
  /** smtp://user:pass@host:port (smtps:// for TLS). */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "an smtp:// or smtps:// URL")
    .default("smtp://127.0.0.1:25"),
  MAIL_FROM: z.string().default("Odoo hosting <noreply@localhost>"),
  OPERATOR_EMAIL: z.email().default("ops@localhost"),
  /** Reconcile jobs at once (each may run an engine; bounded again by ODOO_SAAS_MAX_CONCURRENT_RUNS). */
  RECONCILE_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  /** How often tenants whose observed generation lags are re-enqueued. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(1000).default(30000),
  /** How often every Kill Bill account is read again (events missed while the API was down). */
  KILLBILL_RESYNC_INTERVAL_MS: z.coerce.number().int().min(10000).default(600000),
  /** Billing work that failed is retried after this long, then twice as long each time (≤ 30 min). */
  BILLING_RETRY_FIRST_MS: z.coerce.number().int().min(1000).default(10000),
  /** A reconcile job whose worker stops renewing this lock (crashed) is retried after it expires. */
  JOB_LOCK_MS: z.coerce.number().int().min(2000).default(60000),
  /** Redis key prefix of the queues (several deployments, or tests, may share one Redis). */
  ODOO_SAAS_QUEUE_PREFIX: z
    .string()
    .regex(/^[\w-]+$/)
    .default("odoo-saas"),
  /** Largest webhook body accepted. */
  WEBHOOK_BODY_LIMIT: z.string().default("64kb"),
  /** Days a terminated tenant's stopped instance and data are kept, unless its plan says otherwise. */
  DATA_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** The restic repository: an absolute path on the Docker host, or a restic URL (s3:, sftp:, rest:). */
  BACKUP_REPOSITORY: z.string().min(1).default("/var/lib/odoo-saas/backups"),
  BACKUP_PASSWORD: secret("BACKUP_PASSWORD"),
  /** Names of variables handed to restic for a remote backend, e.g. AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY. */
  BACKUP_PASS_ENV: z.string().default("").transform(commaList),
  /** The backup-agent image (images/build.sh tags it by content: see images/images.env). */
  BACKUP_AGENT_IMAGE: z.string().min(1).default("odoo-saas/backup-agent:latest"),
  /** Nightly backups: cron pattern and timezone; each tenant starts at its own offset in the window. */
  BACKUP_CRON: z.string().default("0 2 * * *"),
  BACKUP_TIMEZONE: z.string().default(process.env.TZ || "UTC"),
  BACKUP_SPREAD_MINUTES: z.coerce.number().int().min(0).max(720).default(120),
  BACKUP_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** Drift checks of every tenant's stack (refresh, preview only): daily, spread over a window. */
  DRIFT_CRON: z.string().default("0 4 * * *"),
  DRIFT_SPREAD_MINUTES: z.coerce.number().int().min(0).max(720).default(120),
  DRIFT_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /** Terminated tenants past their grace period are deleted: hourly by default. */
  GRACE_CRON: z.string().default("15 * * * *"),
  /** restic retention, the deleted tenants' last backups, prune: daily after the nightly window. */
  BACKUP_RETENTION_CRON: z.string().default("0 6 * * *"),
  /** \`restic check --read-data-subset\`: weekly by default. */
  CHECK_CRON: z.string().default("0 5 * * 0"),
  /** The restore drill: daily, after the nightly backups, a few tenants each time, in turn. */
  RESTORE_DRILL_CRON: z.string().default("30 5 * * *"),
  RESTORE_DRILL_TENANTS: z.coerce.number().int().min(1).max(100).default(3),
  /**
   * Usage metering: every provisioned tenant measured (each day keeps its peak), then the days
   * that ended sent to Kill Bill. Four times a day by default.
   */
  USAGE_METER_CRON: z.string().default("20 */6 * * *"),
  /** A run's measurements are spread over this window (tenant by tenant, like the backups). */
  USAGE_SPREAD_MINUTES: z.coerce.number().int().min(0).max(300).default(60),
  /** Kill Bill's readMaxRawUsagePreviousPeriod: older days are too late to be billed. */
  USAGE_LATE_WINDOW_MONTHS: z.coerce.number().int().min(0).max(12).default(2),
  /** Idle tenants are put to sleep, and sleepers woken for their crons, by this check (cron, seconds allowed). */
  SLEEP_CHECK_CRON: z.string().default("*/30 * * * * *"),
  /**
   * The monitoring's heartbeat (Alertmanager's Watchdog, every minute): a silence longer than this
   * is mailed to the operator. The platform sets it with its monitoring; unset, nothing is watched.
   */
  MONITORING_SILENCE_SECONDS: z.coerce.number().int().min(5).max(86400).optional(),
  /** How often the heartbeat's silence is checked (cron, seconds allowed). */
  MONITORING_WATCH_CRON: z.string().default("*/30 * * * * *"),
  /** The length of a minute of the catalog's sleep policies, in seconds: 60 (tests shorten it). */
  SLEEP_MINUTE_SECONDS: z.coerce.number().positive().max(60).default(60),
  CHECK_SUBSET: z
    .string()
    .regex(/^\d{1,3}(\.\d+)?%$/, "a percentage, e.g. 5%")
    .default("5%"),
  /** How long the last backups of a deleted tenant are kept. */
  DELETED_BACKUP_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /**
   * How the control plane checks that a tenant answers through the edge before it counts as
   * converged: \`direct\` (its public URL), an origin that reaches the router from here (e.g.
   * https://127.0.0.1:8443, https://traefik:443; the tenant's host is sent as SNI and Host), or
   * \`off\` (a control plane that cannot reach the edge; converged then means the engine run ended).
   */
  EDGE_PROBE: z
    .string()
    .regex(/^(direct|off|https?:\/\/[^/]+\/?)$/, "direct, off, or an http(s):// origin")
    .default("direct"),
  /** How long a tenant has to answer through the edge after its engine run. */
  EDGE_PROBE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(180_000),
  /**
   * Traefik's container or Swarm service on the API's engine: its log says why the CA refused a
   * host's certificate (GET /admin/tenants/:id/certificates). Unset: those reasons go unseen.
   */
  TRAEFIK_NAME: z.string().min(1).optional(),
  /**
   * The platform's public addresses (comma-separated): a customer's domain is attached only when
   * it resolves to these alone. Unset: custom domains cannot be verified (refused, saying so).
   */
  PLATFORM_PUBLIC_ADDRESSES: z
    .string()
    .default("")
    .transform(commaList)
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()], "an IP address"))),
  /** DNS servers that verify customers' domains (`host` or `host:port`, comma-separated); default the system's. */
  DOMAIN_DNS_SERVERS: z.string().default("").transform(commaList),
  /** The shared PostgreSQL server's max_connections; default: the platform stack's output. */
  SHARED_POSTGRES_MAX_CONNECTIONS: z.coerce.number().int().min(20).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type ApiConfig = z.output<typeof schema> & { automation: AutomationSettings };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * The API's whole configuration from the environment, parsed once at start. Secrets have no
 * defaults; every problem is listed at once, and no value is echoed back.
 */
export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): ApiConfig {
  const problems: string[] = [];
  const env = withFileVariables(rawEnv, problems);
  const parsed = schema.safeParse(env);
  if (!parsed.success) problems.push(formatIssues(parsed.error));
  let automation: AutomationSettings | undefined;
  try {
    automation = automationSettingsFromEnv(env);
  } catch (e) {
    problems.push((e as Error).message.replace(/^invalid automation settings:\n/, ""));
  }
  if (problems.length || !parsed.success || !automation)
    throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
  return { ...parsed.data, automation };
}

/**
 * `<KEY>_FILE` names a file holding `<KEY>` (how Swarm hands secrets to a service): its content,
 * without the trailing newline, is the value, unless `<KEY>` itself is set. Only for the API's own
 * variables: others ending in `_FILE` (TF_CLI_CONFIG_FILE, …) are none of its business.
 */
function withFileVariables(env: NodeJS.ProcessEnv, problems: string[]): NodeJS.ProcessEnv {
  const known = new Set([...Object.keys(schema.shape), ...AUTOMATION_VARIABLES]);
  const out = { ...env };
  for (const [name, file] of Object.entries(env)) {
    const key = name.replace(/_FILE$/, "");
    if (key === name || !known.has(key) || !file || env[key] !== undefined) continue;
    try {
      out[key] = fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      problems.push(
        `${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  return out;
}
