/**
 * The alerts that wake a hosting operator, as Prometheus alerting rules (a rule file is YAML, and
 * JSON is YAML: `alertRuleFile()` is written as is). Each names the tenant or the service in its
 * labels and gives a first step; each waits (`for`) so one bad scrape never pages anyone. The
 * API's own figures come from every API process alike, so they are read with `max`.
 *
 * Series they read: the API's `/metrics` (job odoo-saas-api), the blackbox exporter's probes of
 * every active tenant (job odoo-saas-tenants, label `tenant`) and of the platform's services (job
 * odoo-saas-platform, label `service`), the postgres exporter (`pg_*`) and the node exporter's
 * filesystems. Tested with `promtool test rules` (alert-rules.test.ts): each fires on its case,
 * stays quiet on a healthy one and on missing series (or fires there, for the absence rule).
 */
export interface AlertRule {
  alert: string;
  expr: string;
  /** How long the condition holds before it fires. */
  for: string;
  /** `page`: someone gets up; `ticket`: the next working day. */
  severity: "page" | "ticket";
  /** What is wrong, naming what (Prometheus templates: `{{ $labels.tenant }}`). */
  summary: string;
  /** What to do first. */
  firstStep: string;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

export const ALERT_RULES: AlertRule[] = [
  {
    alert: "TenantDown",
    expr: 'max by (tenant) (1 - probe_success{job="odoo-saas-tenants"}) == 1',
    for: "3m",
    severity: "page",
    summary: "tenant {{ $labels.tenant }} does not answer through Traefik",
    firstStep:
      "odoo-saas tenants status {{ $labels.tenant }} (GET /admin/tenants/{{ $labels.tenant }}: lastError, nodeProblem)",
  },
  {
    alert: "ReconcileGivenUp",
    expr: "max by (tenant) (odoo_saas_tenant_reconcile_given_up) == 1",
    for: "1m",
    severity: "page",
    summary: "the API gave up applying tenant {{ $labels.tenant }}'s desired state",
    firstStep:
      "GET /admin/tenants/{{ $labels.tenant }} for lastError; fix its cause, then POST /admin/tenants/{{ $labels.tenant }}/reconcile",
  },
  {
    alert: "ReconcileStuck",
    expr: `max by (tenant) (odoo_saas_tenant_unconverged_seconds) > ${30 * 60}`,
    for: "5m",
    severity: "page",
    summary: "tenant {{ $labels.tenant }} has not reached its desired state for over 30 minutes",
    firstStep:
      "GET /admin/tenants/{{ $labels.tenant }}: its last operation and error; the API's log and its queues (odoo_saas_queue_depth)",
  },
  {
    alert: "WebhookBacklog",
    expr: `max(odoo_saas_webhook_inbox_oldest_seconds) > ${10 * 60}`,
    for: "5m",
    severity: "page",
    summary: "Kill Bill events wait unprocessed for over 10 minutes",
    firstStep:
      "Redis and the API's workers (odoo_saas_queue_depth); the API's log for the inbox worker's errors",
  },
  {
    alert: "MailUndelivered",
    expr: `max(odoo_saas_mail_undelivered_oldest_seconds) > ${30 * 60}`,
    for: "5m",
    severity: "ticket",
    summary: "customer mail waits undelivered for over 30 minutes",
    firstStep: "the API's log for the SMTP server's answer; the SMTP settings of the platform",
  },
  {
    alert: "BackupMissing",
    expr: `max by (tenant) (odoo_saas_tenant_backup_age_seconds) > ${26 * HOUR}`,
    for: "10m",
    severity: "page",
    summary: "tenant {{ $labels.tenant }} has no verified backup from the last 26 hours",
    firstStep:
      "odoo-saas tenants backups {{ $labels.tenant }} for the last error, then odoo-saas tenants backup {{ $labels.tenant }}",
  },
  {
    alert: "UsageNotMeasured",
    expr: `max by (tenant) (odoo_saas_tenant_usage_measurement_age_seconds) > ${26 * HOUR}`,
    for: "10m",
    severity: "ticket",
    summary:
      "tenant {{ $labels.tenant }}'s usage has not been measured for 26 hours: its invoice would miss days",
    firstStep:
      "GET /admin/tenants/{{ $labels.tenant }}/usage for the last measurement's error; the API's usage-metering schedule",
  },
  {
    alert: "UsageNotRecorded",
    expr: "max by (tenant) (odoo_saas_tenant_usage_days_unrecorded) > 0",
    for: "1h",
    severity: "ticket",
    summary:
      "days of tenant {{ $labels.tenant }}'s usage are not in Kill Bill (failing, or too late to be billed)",
    firstStep:
      "GET /admin/tenants/{{ $labels.tenant }}/usage: each day's status and error; correct a day with POST /admin/tenants/{{ $labels.tenant }}/usage/{day}",
  },
  {
    alert: "RestoreDrillFailed",
    expr: "max by (tenant) (odoo_saas_restore_drill_failed) == 1",
    for: "5m",
    severity: "ticket",
    summary:
      "the restore drill of tenant {{ $labels.tenant }} failed: its latest backup may not restore",
    firstStep:
      "GET /admin/restore-drills for its error; odoo-saas tenants backup {{ $labels.tenant }}, then POST /admin/restore-drills",
  },
  {
    alert: "RestoreDrillStale",
    expr: `time() - max(odoo_saas_restore_drill_last_success_timestamp) > ${8 * DAY}`,
    for: "1h",
    severity: "ticket",
    summary: "no restore drill has succeeded for over 8 days: the backups' restores are unproven",
    firstStep:
      "GET /admin/restore-drills: are drills failing, or not run (the API's restore-drills schedule and its log)?",
  },
  {
    alert: "SharedPostgresConnections",
    expr: "sum by (instance) (pg_stat_activity_count) / on (instance) max by (instance) (pg_settings_max_connections) > 0.8",
    for: "5m",
    severity: "page",
    summary: "the shared PostgreSQL at {{ $labels.instance }} uses over 80 % of max_connections",
    firstStep:
      "which databases hold them (pg_stat_activity by datname); move a busy tenant to a dedicated plan or raise the server's max_connections",
  },
  {
    alert: "PostgresDown",
    expr: "pg_up == 0",
    for: "2m",
    severity: "page",
    summary: "the exporter cannot reach PostgreSQL at {{ $labels.instance }}",
    firstStep: "docker service ps (or docker ps) for the postgres service and its log",
  },
  {
    alert: "PlatformServiceDown",
    expr: 'probe_success{job="odoo-saas-platform"} == 0',
    for: "2m",
    severity: "page",
    summary: "the platform's {{ $labels.service }} does not answer",
    firstStep: "docker service ps (or docker ps) for {{ $labels.service }} and its log",
  },
  {
    alert: "KillBillUnhealthy",
    expr: 'probe_http_status_code{job="odoo-saas-platform",service="killbill"} == 503',
    for: "30m",
    severity: "ticket",
    summary: "Kill Bill answers but reports itself unhealthy (its queues or database pool)",
    firstStep:
      "GET /1.0/healthcheck on Kill Bill names the failing check; for queues, its log and the bus and notification tables",
  },
  {
    alert: "ScrapeTargetDown",
    expr: "up == 0",
    for: "5m",
    severity: "page",
    summary: "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}",
    firstStep:
      "is {{ $labels.instance }} running and reachable from Prometheus on the control network?",
  },
  {
    alert: "ScrapeTargetMissing",
    expr: [
      'absent(up{job="odoo-saas-api"})',
      'absent(up{job="blackbox"})',
      'absent(up{job="postgres"})',
    ].join(" or "),
    for: "5m",
    severity: "page",
    summary:
      "Prometheus has no target left for {{ $labels.job }}: its silence would hide everything",
    firstStep: "the Prometheus configuration and its service discovery for {{ $labels.job }}",
  },
  {
    alert: "DiskFillingUp",
    expr: `predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}[6h], ${DAY}) < 0`,
    for: "30m",
    severity: "page",
    summary:
      "{{ $labels.mountpoint }} on {{ $labels.instance }} fills up within 24 hours at this rate",
    firstStep:
      "du on {{ $labels.mountpoint }}: the backup repository (its retention), volumes of deleted tenants, images (docker image prune)",
  },
  {
    alert: "CertificateExpiring",
    expr: `probe_ssl_earliest_cert_expiry - time() < ${20 * DAY}`,
    for: "1h",
    severity: "ticket",
    summary: "the certificate of {{ $labels.instance }} expires in under 20 days",
    firstStep: "Traefik's log for its ACME resolver's errors (rate limits, failed challenges)",
  },
  {
    alert: "FleetDrift",
    expr: "max(odoo_saas_tenants_drifted) > 0",
    for: "1h",
    severity: "ticket",
    summary: "{{ $value }} tenant stacks differ from what their programs declare",
    firstStep: "odoo-saas fleet drift: which resources changed out of band; --fix puts them back",
  },
];

/**
 * Always firing, never mailed: Alertmanager sends it to the API as a heartbeat (its `heartbeat`
 * receiver), and the API mails the operator when it stops coming (api/services/monitoring-watch.ts):
 * the only way a dead Prometheus or Alertmanager is ever noticed.
 */
export const WATCHDOG_ALERT = "Watchdog";
const WATCHDOG_RULE = {
  alert: WATCHDOG_ALERT,
  expr: "vector(1)",
  labels: { severity: "heartbeat" },
  annotations: {
    summary: "always firing: the alerting chain is alive (the API's dead man's switch reads it)",
  },
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: HOUR, d: DAY };

/** A duration such as `3m` divided (at least 1 s): the test timing's shorter waits. */
export function dividedDuration(duration: string, divisor: number): string {
  const m = /^(\d+)([smhd])$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return `${Math.max(1, Math.round((Number(m[1]) * UNIT_SECONDS[m[2]]) / divisor))}s`;
}

/**
 * The rules as a Prometheus rule file (JSON, which Prometheus reads as YAML). `forDivisor`
 * shortens every wait alike, for tests that watch an alert fire in seconds.
 */
export function alertRuleFile(rules: AlertRule[] = ALERT_RULES, forDivisor = 1) {
  return {
    groups: [
      {
        name: "odoo-saas",
        rules: rules.map((r) => ({
          alert: r.alert,
          expr: r.expr,
          for: forDivisor === 1 ? r.for : dividedDuration(r.for, forDivisor),
          labels: { severity: r.severity },
          annotations: { summary: r.summary, first_step: r.firstStep },
        })),
      },
      { name: "odoo-saas-heartbeat", rules: [WATCHDOG_RULE] },
    ],
  };
}
