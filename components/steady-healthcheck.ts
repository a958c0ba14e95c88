/**
 * A health-check command that checks every interval until the container is healthy, then only
 * every `steadySeconds`: fast readiness (a tenant counts as up once healthy) and cheap steady
 * state. Each check is an exec through dockerd, containerd and runc, about 80 ms of CPU
 * (bench/idle), so 50 tenants checked every 10 s kept 40 % of a core busy.
 *
 * Docker's own `start_interval` does this from Engine 25 (API 1.44) and for containers only; the
 * bridged provider's Swarm service has no such field, and Debian 12's engine is 20.10. So the
 * command does it itself, on every engine and runtime: once a check passes it writes the start
 * time of the container's PID 1 to a marker, and a check that finds the marker of the same run
 * waits `steadySeconds` before checking (Docker starts the next check one interval after the last
 * ended). A restarted container has another PID 1 start time: it is checked at once again.
 * The check's timeout must cover the wait: see `steadyTimeoutSeconds`.
 */
export function steadyHealthcheck(check: string, steadySeconds: number): string[] {
  const marker = "/tmp/.odoo-saas-healthy";
  return [
    "CMD-SHELL",
    `run=$(cut -d' ' -f22 /proc/1/stat); ` +
      `[ "$(cat ${marker} 2>/dev/null)" = "$run" ] && sleep ${steadySeconds}; ` +
      `if ${check}; then echo "$run" > ${marker}; else rm -f ${marker}; exit 1; fi`,
  ];
}

/** A steady check's timeout: its wait plus the check's own. */
export const steadyTimeoutSeconds = (steadySeconds: number, checkSeconds: number) =>
  steadySeconds + checkSeconds;
