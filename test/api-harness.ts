// Starts the real API runtime against the local PostgreSQL (a database of its own) and Redis (a
// key prefix of its own), a Kill Bill stand-in, a real SMTP receiver, and the real engine with
// the provider-free tenant program.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import request from "supertest";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, type ApiConfig } from "../api/config";
import { StackRunner } from "../automation";
import { createLogger } from "../api/common/logger";
import { startRuntime, type Runtime } from "../api/runtime";
import { KB_AUTH, KillBillStandIn } from "./killbill-stand-in";
import { providerFreeTenantProgram, type StandInSpec } from "./provider-free-program";
import { SmtpReceiver } from "./smtp-receiver";
import type { UsageProbe } from "../api/services/usage-meter";

export const ADMIN_TOKEN = "admin-token-0123456789abcdef";
export const WEBHOOK_SECRET = "webhook-secret-0123456789abcdef";
const PG = "postgres://odoo_saas:odoo_saas@127.0.0.1:5432";

export interface ApiHarnessOptions {
  /** Environment that wins over the harness's own (e.g. the state backend of a real platform). */
  env?: Record<string, string>;
  /** The real tenant program (docker provider, local images) instead of the provider-free one. */
  realProgram?: boolean;
  /** A real Kill Bill (test/killbill-server.ts) instead of the stand-in. */
  killbill?: { url: string; username: string; password: string; apiKey: string; apiSecret: string };
  /** The API's own clock. */
  now?: () => Date;
  /** How the API reads tenants' usage (a provider-free tenant has no database to measure). */
  usageProbe?: UsageProbe;
  /** Where the API's logs go (JSON lines); silent otherwise. */
  logTo?: { write(line: string): void };
  /**
   * A platform stack to read, declaring only its `tenantSettings` output (a provider-free
   * stand-in of the platform: what admission reads, without Traefik or PostgreSQL).
   */
  platformSettings?: Record<string, unknown>;
}

/** The backup agent images/build.sh made (a placeholder where no image is needed). */
function backupAgentImage(): string {
  const file = path.join(__dirname, "..", "images", "images.env");
  const line = fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .find((l) => l.startsWith("ODOO_SAAS_BACKUP_AGENT_IMAGE="))
    : undefined;
  return line?.split("=")[1] ?? "odoo-saas/backup-agent:latest";
}

export class ApiHarness {
  constructor(private readonly options: ApiHarnessOptions = {}) {}
  readonly killbill = new KillBillStandIn();
  readonly smtp = new SmtpReceiver();
  readonly database = `odoo_saas_api_test_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-api-"));
  readonly queuePrefix = `test-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  /** Test-only knobs per tenant read by the stand-in program (delay, failure). */
  readonly knobs: Record<string, { delayMs?: number; failWith?: string; worldDir?: string }> = {};
  runtime!: Runtime;
  config!: ApiConfig;

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PORT: "0",
      DATABASE_URL: `${PG}/${this.database}`,
      REDIS_URL: "redis://127.0.0.1:6379",
      ADMIN_TOKEN,
      KILLBILL_WEBHOOK_SECRET: WEBHOOK_SECRET,
      KILLBILL_URL: this.options.killbill?.url ?? this.killbill.url,
      KILLBILL_USERNAME: this.options.killbill?.username ?? KB_AUTH.username,
      KILLBILL_PASSWORD: this.options.killbill?.password ?? KB_AUTH.password,
      KILLBILL_API_KEY: this.options.killbill?.apiKey ?? KB_AUTH.apiKey,
      KILLBILL_API_SECRET: this.options.killbill?.apiSecret ?? KB_AUTH.apiSecret,
      SMTP_URL: this.smtp.url,
      OPERATOR_EMAIL: "ops@example.com",
      SWEEP_INTERVAL_MS: "1000",
      JOB_LOCK_MS: "4000",
      LOG_LEVEL: "silent",
      ODOO_SAAS_DATA_DIR: this.dataDir,
      PULUMI_BACKEND_URL: `file://${this.dataDir}/state`,
      PULUMI_CONFIG_PASSPHRASE: "api-test-passphrase",
      ODOO_SAAS_QUEUE_PREFIX: this.queuePrefix,
      BACKUP_REPOSITORY: path.join(this.dataDir, "backups"),
      BACKUP_PASSWORD: "backup-password-0123456789abcdef",
      BACKUP_AGENT_IMAGE: backupAgentImage(),
      // The provider-free program runs no Odoo and has no edge: converged means the engine run
      // ended (suites on a real platform set the edge: test/e2e/platform.ts).
      EDGE_PROBE: "off",
      // A metering run's measurements at once, not spread over an hour.
      USAGE_SPREAD_MINUTES: "0",
      ...this.options.env,
      ...extra,
    };
  }

  async start(opts: { workers?: boolean } = {}): Promise<void> {
    await Promise.all([
      this.options.killbill ? undefined : this.killbill.start(),
      this.smtp.start(),
    ]);
    fs.mkdirSync(path.join(this.dataDir, "state"), { recursive: true });
    const admin = new Client(`${PG}/odoo_saas`);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.database}`);
    await admin.end();
    this.config = loadConfig(this.env());
    if (this.options.platformSettings) await this.declarePlatform(this.options.platformSettings);
    await this.startRuntime(opts);
  }

  /** The provider-free platform stack: only the outputs the API reads. */
  private async declarePlatform(tenantSettings: Record<string, unknown>): Promise<void> {
    const [project, stack] = this.config.automation.platformStack.split("/").slice(-2);
    await new StackRunner(this.config.automation).up({
      project,
      stack,
      program: async () => ({ tenantSettings, postgresAdminPassword: pulumi.secret("unused") }),
    });
  }

  /** The API's log: the suite's own sink, or with ODOO_SAAS_TEST_LOGS=<dir> a file per harness. */
  private logSink(): { write(line: string): void } | undefined {
    if (this.options.logTo) return this.options.logTo;
    const dir = process.env.ODOO_SAAS_TEST_LOGS;
    if (!dir) return undefined;
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${path.basename(this.database)}.log`);
    return { write: (line) => fs.appendFileSync(file, line) };
  }

  async startRuntime(opts: { workers?: boolean } = {}): Promise<void> {
    const sink = this.logSink();
    this.runtime = await startRuntime(this.config, {
      logger: sink ? createLogger("info", sink) : createLogger("silent"),
      workers: opts.workers ?? true,
      now: this.options.now,
      usageProbe: this.options.usageProbe,
      programFor: this.options.realProgram
        ? undefined
        : (spec) =>
            providerFreeTenantProgram({ ...spec, ...this.knobs[spec.tenantId] } as StandInSpec),
    });
  }

  /** Requests to the API over real HTTP. */
  api() {
    return request(this.runtime.url!);
  }

  /** Kill Bill's push of one notification, on the right callback path. */
  hook(body: unknown) {
    return this.api()
      .post(`/webhooks/killbill/${WEBHOOK_SECRET}`)
      .send(body as object);
  }

  /**
   * Waits until the tenant's view says converged in `state` (the API's own meaning: applied and,
   * where the edge is checked, answering); its view. With `failOnError`, its error fails at once.
   */
  converged(
    id: string,
    state: string,
    opts: { timeoutMs?: number; failOnError?: boolean } = {},
  ): Promise<any> {
    return eventually(
      async () => {
        const t = (await asAdmin(this.api().get(`/admin/tenants/${id}`))).body;
        if (opts.failOnError && t.lastError) throw new Error(t.lastError);
        return t.converged && t.observedState === state && t;
      },
      opts.timeoutMs ?? 90_000,
      `${id} ${state}`,
    );
  }

  /** A tenant's operations, oldest first (type and status). */
  async operations(tenantId: string): Promise<{ type: string; status: string }[]> {
    const r = await this.runtime.pool.query(
      "SELECT type, status FROM operations WHERE tenant_id = $1 ORDER BY started_at",
      [tenantId],
    );
    return r.rows;
  }

  /**
   * Runs the API again as another host would: the same database, Redis, state backend and backup
   * repository, but work directories of its own (an empty data directory).
   */
  async restartElsewhere(): Promise<void> {
    await this.runtime.close();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-api-elsewhere-"));
    this.elsewhere.push(dataDir);
    this.config = loadConfig(this.env({ ODOO_SAAS_DATA_DIR: dataDir }));
    await this.startRuntime();
  }

  private readonly elsewhere: string[] = [];

  async stop(): Promise<void> {
    await this.runtime?.close();
    for (const dir of this.elsewhere) fs.rmSync(dir, { recursive: true, force: true });
    await Promise.all([this.options.killbill ? undefined : this.killbill.stop(), this.smtp.stop()]);
    const admin = new Client(`${PG}/odoo_saas`);
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
    await admin.end();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The token a tenant's gateway presents in these tests (its stack outputs only its hash). */
export const gatewayAuth = (tenantId: string) => ({
  Authorization: `Bearer gateway-of-${tenantId}`,
});

/**
 * A tenant asleep in the API's store, as if its stack had run (active, converged, its gateway
 * token's hash among its outputs): what a gateway's wake acts on.
 */
export async function sleepingTenant(h: ApiHarness, id: string): Promise<void> {
  const hash = createHash("sha256").update(`gateway-of-${id}`).digest("hex");
  const spec = { plan: "trial", odooVersion: "17" };
  await h.runtime.pool.query(
    `INSERT INTO tenants (id, customer_id, spec, desired_state, source, observed_state,
       desired_generation, observed_generation, outputs, applied_spec, sleeping_since)
     VALUES ($1, $2, $3, 'active', 'admin', 'active', 1, 1, $4, $5, now())`,
    [
      id,
      `c-${id}`,
      spec,
      { gatewayTokenHash: hash },
      {
        tenantId: id,
        customerId: `c-${id}`,
        ...spec,
        state: "sleeping",
        customDomains: [],
        keptNodes: [],
        databases: { serving: "shared", kept: [] },
      },
    ],
  );
}

/** An admin request: the bearer token set. */
export const asAdmin = (r: request.Test) => r.set("Authorization", `Bearer ${ADMIN_TOKEN}`);

/** Polls until `check` returns a truthy value (or throws the last error after the timeout). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60000,
  label = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${label}${lastError ? `: ${(lastError as Error).message}` : ""}`,
  );
}
