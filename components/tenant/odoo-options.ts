import type { Plan } from "../../catalog";

const MB = 1024 * 1024;

/**
 * The Odoo server command line for a tenant: pinned to its database (db_name + dbfilter, so cron
 * workers never wander into other databases), database list off, proxy mode on, and the plan's
 * worker, memory and time limits. Database host/user/password come through the official image's
 * HOST/PORT/USER/PASSWORD environment variables.
 */
export function odooCommand(plan: Plan, database: string): string[] {
  const o = plan.odoo;
  return [
    "odoo",
    `--database=${database}`,
    `--db-filter=^${database}$`,
    "--no-database-list",
    "--proxy-mode",
    `--workers=${o.workers}`,
    `--max-cron-threads=${o.maxCronThreads}`,
    `--limit-memory-soft=${o.limitMemorySoftMb * MB}`,
    `--limit-memory-hard=${o.limitMemoryHardMb * MB}`,
    `--limit-time-cpu=${o.limitTimeCpuSeconds}`,
    `--limit-time-real=${o.limitTimeRealSeconds}`,
    `--db_maxconn=${o.dbMaxConnections}`,
  ];
}

/** Container limits from the plan, in the units each runtime takes. */
export function runtimeLimits(plan: Plan) {
  return {
    /** docker.Container `cpus` (a decimal string) and `memory` (MB). */
    container: { cpus: String(plan.cpus), memory: plan.memoryMb },
    /** docker.Service resources: nano-CPUs and bytes. */
    service: { nanoCpus: Math.round(plan.cpus * 1e9), memoryBytes: plan.memoryMb * MB },
  };
}

export const STORAGE_QUOTA_LABEL = "odoo-saas.storage-quota-bytes";

export function storageQuotaBytes(plan: Plan): number {
  return plan.storageGb * 1024 * MB;
}

/** Health check on Odoo's own endpoint (the official image ships curl). */
export const ODOO_HEALTHCHECK = {
  tests: ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8069/web/health"],
  interval: "30s",
  timeout: "5s",
  retries: 3,
  // Cold module loading of a fresh database can take minutes.
  startPeriod: "120s",
};
