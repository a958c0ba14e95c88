import type { WorkloadHealthcheck } from "./workload";

/**
 * A PostgreSQL server's health check, the same for every server of the platform and the tenants:
 * healthy once `pg_isready` answers for `user` (on `database` when given), with a start period
 * for a first start's initdb.
 */
export function postgresHealthcheck(user: string, database?: string): WorkloadHealthcheck {
  return {
    tests: ["CMD", "pg_isready", "-U", user, ...(database ? ["-d", database] : [])],
    intervalSeconds: 10,
    timeoutSeconds: 5,
    retries: 5,
    startPeriodSeconds: 30,
  };
}
