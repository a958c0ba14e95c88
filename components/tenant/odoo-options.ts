import type { Plan } from "../../catalog";
import { steadyHealthcheck, steadyTimeoutSeconds } from "../steady-healthcheck";
import type { WorkloadHealthcheck } from "../workload";

const MB = 1024 * 1024;

/**
 * The Odoo server command line for a tenant: pinned to its database, database list off, proxy mode
 * on, and the plan's worker, memory and time limits. `--database` without `--db-filter` is what
 * pins it: Odoo then serves and runs cron for exactly that database without listing the server's
 * databases (odoo/service/db.py `list_dbs`); a db-filter would make every request list them on
 * `postgres`, holding a connection there per HTTP worker. Database host/user/password come through the official image's
 * HOST/PORT/USER/PASSWORD environment variables.
 */
export function odooCommand(plan: Plan, database: string): string[] {
  const o = plan.odoo;
  return [
    "odoo",
    `--database=${database}`,
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

/**
 * The one-shot that makes a new database usable by Odoo: `base` installed, no demo data, then exit.
 */
export function odooInitCommand(database: string): string[] {
  return [
    "odoo",
    `--database=${database}`,
    "-i",
    "base",
    "--without-demo=all",
    "--stop-after-init",
  ];
}

/**
 * The one-shot that migrates a database to a new build of its Odoo image: every installed module
 * updated (`-u all`), then exit. Odoo serves a database its code has not migrated wrongly, or not.
 */
export function odooUpgradeCommand(database: string): string[] {
  return ["odoo", `--database=${database}`, "-u", "all", "--stop-after-init"];
}

/**
 * Health check of the Odoo runtime. `/web/health` exists from Odoo 15 on (and answers only once the
 * database is initialised); Odoo 14 gets a TCP check of its HTTP port instead. Traefik routes a
 * container only once it is healthy: until then it is checked every `intervalSeconds` (how soon a
 * new tenant is reachable), then every `steadySeconds` (how soon a hung Odoo is noticed; one that
 * exits is restarted at once).
 */
export function odooHealthcheck(
  version: string,
  { intervalSeconds, steadySeconds }: { intervalSeconds: number; steadySeconds: number },
): WorkloadHealthcheck {
  const check =
    Number(version) >= 15
      ? "curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8069/web/health"
      : `python3 -c "import socket; socket.create_connection(('127.0.0.1', 8069), 5)"`;
  return {
    tests: steadyHealthcheck(check, steadySeconds),
    intervalSeconds,
    timeoutSeconds: steadyTimeoutSeconds(steadySeconds, 10),
    retries: 3,
    // Cold module loading of a large database can take minutes.
    startPeriodSeconds: 120,
  };
}

/** What answers once a tenant is up, through the edge: `/web/health` from 15 on, the sign-in page before. */
export function odooHealthPath(version: string): string {
  return Number(version) >= 15 ? "/web/health" : "/web/login";
}
