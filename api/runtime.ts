import type { Server } from "node:http";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { Redis } from "ioredis";
import { Pool } from "pg";
import { StackRunner, TenantStacks, type TenantProgramFactory } from "../automation";
import { loadCatalog } from "../catalog";
import type { OdooVersion } from "../components/tenant/odoo-versions";
import { createApp } from "./app";
import { isLostJob, isOutage, OutageLog, POSTGRES_AWAY, REDIS_AWAY } from "./common/outage";
import type { ApiConfig } from "./config";
import { ProgressBus } from "./jobs/progress-bus";
import { Queues } from "./jobs/queues";
import { Workers } from "./workers";
import { KillBillClient } from "./killbill/client";
import { setUpKillBill } from "./killbill/setup";
import { createLogger, type Logger } from "./common/logger";
import { MailDelivery } from "./mail/delivery";
import { DriftService } from "./services/drift-service";
import { Mailer } from "./mail/mailer";
import { Outbox } from "./mail/outbox";
import { MailOutboxStore } from "./store/mail-outbox-store";
import { createMetrics } from "./common/metrics";
import { BillingSync } from "./services/billing-sync";
import { Reconciler } from "./services/reconciler";
import { TenantService } from "./services/tenant-service";
import { BillingProblemStore } from "./store/billing-problem-store";
import { InboxStore } from "./store/inbox-store";
import { probedTenants, readFleetHealth } from "./store/fleet-health";
import { migrate } from "./store/migrations";
import { OperationStore } from "./store/operation-store";
import { TenantStore } from "./store/tenant-store";
import * as fs from "node:fs";
import { BackupAgent } from "../backup/agent";
import { BackupRepository } from "../backup/repository";
import { TenantBackups } from "../backup/tenant-backups";
import { BackupService } from "./services/backup-service";
import { ExportService } from "./services/export-service";
import { LifecycleJobs } from "./services/lifecycle-jobs";
import { RestoreDrills } from "./services/restore-drill";
import { MonitoringWatch } from "./services/monitoring-watch";
import { MonitoringHeartbeatStore } from "./store/monitoring-heartbeat-store";
import { UsageMeter, type UsageProbe } from "./services/usage-meter";
import { agentUsageProbe } from "./services/usage-probe";
import { UsageStore } from "./store/usage-store";
import { RestoreDrillStore } from "./store/restore-drill-store";
import { TenantSleep } from "./services/tenant-sleep";
import { TenantSleepStore } from "./store/tenant-sleep-store";
import { TenantDomainStore } from "./store/tenant-domain-store";
import { DomainVerifier } from "./services/domain-verifier";
import { TenantDomains } from "./services/tenant-domains";
import { routedHosts, TenantCertificates } from "./services/tenant-certificates";
import { TenantRuntime } from "./services/tenant-runtime";
import { BackupStore } from "./store/backup-store";
import { AdvisoryLocks } from "./store/advisory-locks";
import { PaymentFailureStore } from "./store/payment-failure-store";
import { TrialStore } from "./store/trial-store";
import { TenantAdmission } from "./services/tenant-admission";
import { NodeCapacity } from "./services/node-capacity";
import { TenantNodes } from "./services/tenant-nodes";
import { NodeMove } from "./services/node-move";
import { NodeDrain, strandedPerNode } from "./services/node-drain";
import { DatabaseMove } from "./services/database-move";
import { EdgeProbe } from "./services/edge-probe";
import { BillingQuarantineStore } from "./store/billing-quarantine-store";

export interface RuntimeOptions {
  /** Serve HTTP (the API role). */
  http?: boolean;
  /** Run the workers and the sweeper (the worker role). Both by default: one process does all. */
  workers?: boolean;
  /** The tenant program; the real one by default. */
  programFor?: TenantProgramFactory;
  logger?: Logger;
  defaultOdooVersion?: OdooVersion;
  /** Our own clock (trial expiry, grace periods); tests set it. */
  now?: () => Date;
  /** How tenants' usage is read: the backup agent in the tenant's data by default. */
  usageProbe?: UsageProbe;
}

export interface Runtime {
  server?: Server;
  url?: string;
  workers?: Workers;
  pool: Pool;
  redis: Redis;
  queues: Queues;
  /** Graceful: stop accepting requests, let running jobs finish, close connections. */
  close(): Promise<void>;
}

/** The composition root: every dependency made once here and passed in, nothing global. */
export async function startRuntime(config: ApiConfig, opts: RuntimeOptions = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const pool = connectPostgres(config, logger);
  const applied = await migrate(pool);
  if (applied.length) logger.info({ applied }, "migrations applied");
  const { redis, onRedisError } = connectRedis(config, logger);
  const prefix = config.ODOO_SAAS_QUEUE_PREFIX;
  const queues = new Queues(redis, prefix, onRedisError);
  const metrics = createMetrics();
  const catalog = loadCatalog();
  const now = opts.now ?? (() => new Date());
  const dataRetentionDays = (plan: string) =>
    catalog.plan(plan)?.dataRetentionDays ?? config.DATA_RETENTION_DAYS;
  const tenants = new TenantStore(pool, { now, dataRetentionDays });
  const operations = new OperationStore(pool, logger);
  const inbox = new InboxStore(pool);
  const progress = new ProgressBus(redis, `${prefix}:operation`);
  const runner = new StackRunner(config.automation);
  const stacks = new TenantStacks(runner, opts.programFor, { catalog });
  const problems = new BillingProblemStore(pool);
  const outbox = new MailOutboxStore(pool);
  const mail = new Outbox(outbox, queues);
  const killbillConnection = {
    url: config.KILLBILL_URL,
    username: config.KILLBILL_USERNAME,
    password: config.KILLBILL_PASSWORD,
    apiKey: config.KILLBILL_API_KEY,
    apiSecret: config.KILLBILL_API_SECRET,
  };
  const killbill = new KillBillClient(killbillConnection);
  const nodes = new NodeCapacity();
  const admission = new TenantAdmission({
    tenants,
    catalog,
    maxConnections: async () =>
      config.SHARED_POSTGRES_MAX_CONNECTIONS ?? (await stacks.sharedPostgresMaxConnections()),
    pooler: async () => (await stacks.platformSettings())?.postgres?.pooler,
    placement: async () => {
      const s = await stacks.platformSettings();
      return (
        s && {
          tenantLimitCap: s.tenantLimitCap,
          swarmVolumeConstraint: s.swarmVolumeConstraint,
          localVolumes: s.filestore?.kind !== "cephfs",
        }
      );
    },
    nodes: () => nodes.nodes(),
    logger,
  });
  const quarantine = new BillingQuarantineStore(pool, config.BILLING_RETRY_FIRST_MS);
  const billing = new BillingSync({
    inbox,
    admission,
    quarantine,
    tenants,
    problems,
    trials: new TrialStore(pool),
    paymentFailures: new PaymentFailureStore(pool),
    locks: new AdvisoryLocks(pool, "subscription"),
    killbill,
    catalog,
    queues,
    mail,
    metrics,
    logger,
    operatorEmail: config.OPERATOR_EMAIL,
    defaultOdooVersion: opts.defaultOdooVersion ?? "17",
    dataRetentionDays,
    now: opts.now,
  });
  const repository = new BackupRepository({
    location: config.BACKUP_REPOSITORY,
    password: config.BACKUP_PASSWORD,
    passEnv: config.BACKUP_PASS_ENV,
  });
  // A local repository is a directory on the Docker host (this host, when the engine is local).
  if (repository.isLocal) fs.mkdirSync(repository.location, { recursive: true, mode: 0o700 });
  const locks = new AdvisoryLocks(pool, "tenant");
  const tenantRuntime = new TenantRuntime();
  const backupStore = new BackupStore(pool);
  const engine = new TenantBackups(new BackupAgent(config.BACKUP_AGENT_IMAGE, repository));
  const backupService = new BackupService({
    tenants,
    backups: backupStore,
    operations,
    stacks,
    engine,
    locks,
    runtime: tenantRuntime,
    queues,
    progress,
    metrics,
    logger,
    catalog,
  });
  const lifecycle = new LifecycleJobs({
    tenants,
    backups: backupStore,
    engine,
    queues,
    logger,
    catalog,
    now,
    spreadMs: config.BACKUP_SPREAD_MINUTES * 60_000,
    deletedRetentionDays: config.DELETED_BACKUP_RETENTION_DAYS,
    checkSubset: config.CHECK_SUBSET,
  });
  const drillStore = new RestoreDrillStore(pool);
  const drills = new RestoreDrills({
    tenants,
    backups: backupStore,
    drills: drillStore,
    stacks,
    engine,
    metrics,
    logger,
    catalog,
    perRun: config.RESTORE_DRILL_TENANTS,
  });
  const usageStore = new UsageStore(pool);
  const usage = new UsageMeter({
    usage: usageStore,
    tenants,
    catalog,
    probe: opts.usageProbe ?? agentUsageProbe({ tenants, stacks, engine, catalog }),
    recorder: killbill,
    mail,
    metrics,
    logger,
    now,
    lateWindowMonths: config.USAGE_LATE_WINDOW_MONTHS,
    schedule: (id, run, delayMs) => queues.enqueueUsageMeasurement(id, run, delayMs),
    spreadMs: config.USAGE_SPREAD_MINUTES * 60_000,
  });
  const monitoringWatch = new MonitoringWatch({
    store: new MonitoringHeartbeatStore(pool),
    mail,
    operatorEmail: config.OPERATOR_EMAIL,
    silenceSeconds: config.MONITORING_SILENCE_SECONDS,
    heartbeatAge: metrics.monitoringHeartbeatAge,
    logger,
  });
  const sleep = new TenantSleep({
    store: new TenantSleepStore(pool),
    queues,
    catalog,
    logger,
    metrics,
    wakerConfigured: async () => !!(await stacks.platformSettings())?.waker,
    minuteSeconds: config.SLEEP_MINUTE_SECONDS,
  });
  const drift = new DriftService({
    tenants,
    stacks,
    queues,
    locks,
    metrics,
    logger,
    now,
    spreadMs: config.DRIFT_SPREAD_MINUTES * 60_000,
  });
  metrics.driftSource.count = () => tenants.driftedCount();
  const edge = new EdgeProbe({ mode: config.EDGE_PROBE, timeoutMs: config.EDGE_PROBE_TIMEOUT_MS });
  const moves = new NodeMove({
    tenants,
    operations,
    stacks,
    backups: backupService,
    engine,
    runtime: tenantRuntime,
    locks,
    queues,
    progress,
    edge,
    metrics,
    logger,
    catalog,
    nodes: () => nodes.nodes(),
    nodeStates: () => nodes.states(),
    now,
  });
  metrics.fleetHealthSource.read = () => readFleetHealth(pool);
  metrics.strandedSource.count = async () =>
    strandedPerNode(await tenants.list(), await nodes.states());
  const drain = new NodeDrain({
    tenants,
    operations,
    stacks,
    nodes,
    moves,
    mail,
    catalog,
    logger,
    operatorEmail: config.OPERATOR_EMAIL,
  });
  const service = new TenantService({
    drift,
    tenants,
    usage: usageStore,
    admission,
    quarantine,
    operations,
    queues,
    catalog,
    stacks,
    billing,
    problems,
    backups: backupService,
    exports: new ExportService({ backups: backupStore, engine, logger }),
    moves,
    nodeStates: () => nodes.recentStates(),
    drain,
    runtime: tenantRuntime,
    metrics,
  });

  const domains = new TenantDomains({
    store: new TenantDomainStore(pool),
    verifier: config.PLATFORM_PUBLIC_ADDRESSES.length
      ? new DomainVerifier({
          platformAddresses: config.PLATFORM_PUBLIC_ADDRESSES,
          dnsServers: config.DOMAIN_DNS_SERVERS,
        })
      : undefined,
    tenants: service,
    locks: new AdvisoryLocks(pool, "tenant-domains"),
    platformAddresses: config.PLATFORM_PUBLIC_ADDRESSES,
    baseDomain: async () => (await stacks.platformSettings())?.baseDomain,
  });
  const certificates = new TenantCertificates({
    hostsOf: async (id) => routedHosts((await service.get(id)).outputs),
    edge: config.EDGE_PROBE,
    traefik: config.TRAEFIK_NAME,
  });

  let workers: Workers | undefined;
  let killBillSetUp: { stop(): void } | undefined;
  let mailer: Mailer | undefined;
  let resync: NodeJS.Timeout | undefined;
  if (opts.workers ?? true) {
    mailer = new Mailer(config.SMTP_URL, config.MAIL_FROM);
    workers = new Workers({
      connection: redis,
      prefix,
      queues,
      reconciler: new Reconciler({
        tenants,
        operations,
        stacks,
        queues,
        mail,
        progress,
        metrics,
        logger,
        locks,
        backups: backupService,
        moves: new DatabaseMove({
          tenants,
          stacks,
          engine,
          backups: backupService,
          runtime: tenantRuntime,
          now,
          retentionDays: dataRetentionDays,
        }),
        edge,
        runtime: tenantRuntime,
        nodes: new TenantNodes({
          tenants,
          catalog,
          tenantNodes: async () => (await stacks.platformSettings())?.tenantNodes,
          tenantLimitCap: async () => (await stacks.platformSettings())?.tenantLimitCap,
          nodes: () => nodes.nodes(),
        }),
        catalog,
        operatorEmail: config.OPERATOR_EMAIL,
      }),
      backups: backupService,
      moves,
      lifecycle,
      drills,
      sleep,
      usage,
      monitoringWatch,
      backupConcurrency: config.BACKUP_CONCURRENCY,
      billing,
      delivery: new MailDelivery(outbox, mailer, logger),
      drift,
      driftConcurrency: config.DRIFT_CONCURRENCY,
      outbox,
      quarantine,
      tenants,
      inbox,
      metrics,
      logger,
      reconcileConcurrency: config.RECONCILE_CONCURRENCY,
      jobLockMs: config.JOB_LOCK_MS,
      sweepIntervalMs: config.SWEEP_INTERVAL_MS,
      onRedisError,
    });
    workers.startSweeper();
    const schedule = () =>
      queues.scheduleMaintenance({
        backupCron: config.BACKUP_CRON,
        graceCron: config.GRACE_CRON,
        backupRetentionCron: config.BACKUP_RETENTION_CRON,
        checkCron: config.CHECK_CRON,
        driftCron: config.DRIFT_CRON,
        restoreDrillCron: config.RESTORE_DRILL_CRON,
        sleepCheckCron: config.SLEEP_CHECK_CRON,
        usageMeterCron: config.USAGE_METER_CRON,
        monitoringWatchCron: config.MONITORING_WATCH_CRON,
        timezone: config.BACKUP_TIMEZONE,
      });
    await schedule();
    // A Redis that comes back empty (restarted without persistence, failed over) has lost the
    // schedules: put them back on every reconnect (idempotent).
    redis.on(
      "ready",
      () => void schedule().catch((err) => logger.warn({ err }, "maintenance not rescheduled")),
    );
    // Events missed while the API was down arrive only with Kill Bill's retries (for ~1.6 days):
    // read every account at start and periodically instead.
    const runResync = () =>
      billing.resync().then(
        (r) => logger.info(r, "Kill Bill resync done"),
        (err) => logger.warn({ err: (err as Error).message }, "Kill Bill resync failed"),
      );
    void runResync();
    resync = setInterval(runResync, config.KILLBILL_RESYNC_INTERVAL_MS);
    resync.unref();
    if (config.KILLBILL_CALLBACK_BASE)
      killBillSetUp = setUpUntilDone(
        () =>
          setUpKillBill(
            killbillConnection,
            catalog,
            `${config.KILLBILL_CALLBACK_BASE!.replace(/\/$/, "")}/webhooks/killbill/${config.KILLBILL_WEBHOOK_SECRET}`,
          ),
        logger,
      );
  }

  const { server, url } =
    (opts.http ?? true)
      ? await serveHttp(config, logger, {
          pool,
          redis,
          inbox,
          queues,
          metrics,
          service,
          operations,
          progress,
          drills: drillStore,
          domains,
          certificates,
          sleep,
          usage,
          monitoringWatch,
        })
      : { server: undefined, url: undefined };

  return {
    server,
    url,
    workers,
    pool,
    redis,
    queues,
    async close() {
      if (resync) clearInterval(resync);
      killBillSetUp?.stop();
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await workers?.close();
      mailer?.close();
      await queues.close();
      await redis.quit().catch(() => undefined);
      await pool.end();
    },
  };
}

/**
 * Makes the Kill Bill tenant ready in the background, retrying every 10 s until it succeeds (Kill
 * Bill may start after the API); each kind of failure is logged once.
 */
function setUpUntilDone(setUp: () => Promise<string[]>, logger: Logger): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const said = new Set<string>();
  const attempt = () =>
    setUp().then(
      (steps) => logger.info({ steps }, "Kill Bill tenant ready for this API"),
      (err: Error) => {
        const kind = err.message.replace(/\d+/g, "#");
        if (!said.has(kind))
          logger.warn({ error: err.message }, "Kill Bill set-up failed; retrying");
        said.add(kind);
        if (!stopped) timer = setTimeout(attempt, 10_000);
      },
    );
  void attempt();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The store's pool. A server that does not answer fails a request in 5 s (503) instead of holding
 * it forever; a connection that breaks (the server restarting, failing over) must never crash the
 * process: each client gets a listener, and the outage is said once with its count.
 */
function connectPostgres(config: ApiConfig, logger: Logger): Pool {
  const pool = new Pool({
    connectionString: config.DATABASE_URL,
    max: 10,
    connectionTimeoutMillis: 5000,
  });
  const postgresOutage = new OutageLog(logger, POSTGRES_AWAY);
  const onPostgresError = (err: Error) =>
    isOutage(err) ? postgresOutage.failed(err) : logger.warn({ err }, "PostgreSQL client error");
  pool.on("error", onPostgresError);
  pool.on("connect", (client) => {
    client.on("error", onPostgresError);
    postgresOutage.recovered();
  });
  return pool;
}

/**
 * Redis for the queues (BullMQ needs maxRetriesPerRequest null on connections its workers block
 * on). While Redis is away every client retries (and every worker reports it) several times a
 * second: one line when it goes, one with the count when it is back.
 */
function connectRedis(config: ApiConfig, logger: Logger) {
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const redisOutage = new OutageLog(logger, REDIS_AWAY);
  const onRedisError = (err: unknown) => {
    if (isOutage(err)) redisOutage.failed(err);
    else if (isLostJob(err))
      logger.warn(
        { error: (err as Error).message },
        "a running job's state is gone from Redis (restarted empty?); the sweeper enqueues its work again",
      );
    else logger.error({ err }, "Redis or queue error");
  };
  redis.on("error", onRedisError);
  redis.on("ready", () => redisOutage.recovered());
  return { redis, onRedisError };
}

/** The HTTP side (webhooks, admin, health), listening where the config says. */
async function serveHttp(
  config: ApiConfig,
  logger: Logger,
  d: {
    pool: Pool;
    redis: Redis;
    inbox: InboxStore;
    queues: Queues;
    metrics: ReturnType<typeof createMetrics>;
    service: TenantService;
    operations: OperationStore;
    progress: ProgressBus;
    drills: RestoreDrillStore;
    usage: UsageMeter;
    domains: TenantDomains;
    certificates: TenantCertificates;
    sleep: TenantSleep;
    monitoringWatch: MonitoringWatch;
  },
): Promise<{ server: Server; url?: string }> {
  let pulumi: Promise<PulumiCommand> | undefined;
  const app = createApp({
    logger,
    webhooks: {
      secrets: [
        config.KILLBILL_WEBHOOK_SECRET,
        ...(config.KILLBILL_WEBHOOK_SECRET_PREVIOUS
          ? [config.KILLBILL_WEBHOOK_SECRET_PREVIOUS]
          : []),
      ],
      bodyLimit: config.WEBHOOK_BODY_LIMIT,
      inbox: d.inbox,
      queues: d.queues,
      metrics: d.metrics,
      logger,
    },
    admin: {
      token: config.ADMIN_TOKEN,
      service: d.service,
      operations: d.operations,
      progress: d.progress,
      domains: d.domains,
      certificates: d.certificates,
      drills: {
        list: () => d.drills.list(),
        runNow: () => d.queues.runMaintenanceNow("restore-drills"),
      },
      usage: {
        view: (id, from, to) => d.usage.view(id, from, to),
        correct: (id, c) => d.usage.correct(id, c.unit, c.day, c.amount, c.by),
        runNow: () => d.queues.runMaintenanceNow("usage-metering"),
      },
    },
    gateway: {
      tokenHashOf: (id) => d.sleep.gatewayTokenHash(id),
      wake: (id) => d.sleep.wake(id, "request"),
      recordActivity: (id) => d.sleep.recordActivity(id),
    },
    monitoring: {
      token: config.MONITORING_TOKEN ?? config.ADMIN_TOKEN,
      probedTenants: () => probedTenants(d.pool),
      heartbeat: d.monitoringWatch.watching ? () => d.monitoringWatch.heartbeat() : undefined,
    },
    health: {
      pool: d.pool,
      redis: d.redis,
      metrics: d.metrics,
      pulumiVersion: async () => {
        pulumi ??= PulumiCommand.get(
          config.automation.pulumiRoot ? { root: config.automation.pulumiRoot } : undefined,
        );
        pulumi.catch(() => (pulumi = undefined));
        return String((await pulumi).version);
      },
    },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
  });
  // Kill Bill's client offers h2c upgrades; no 'upgrade' listener is attached, so Node ignores them.
  const address = server.address();
  const url =
    typeof address === "object" && address ? `http://${config.HOST}:${address.port}` : undefined;
  logger.info({ url }, "API listening");
  return { server, url };
}
