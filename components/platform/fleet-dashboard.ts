/**
 * The fleet's Grafana dashboard, generated here and committed as `docs/grafana/fleet-dashboard.json`
 * for an operator to import (Grafana is not in Debian, so it is not run here). Its data source is
 * chosen at import (`DS_PROMETHEUS`): the platform's Prometheus. The API's figures come from every
 * API process alike, so they are read with `max`.
 */
export interface DashboardPanel {
  title: string;
  type: "timeseries" | "stat" | "table";
  /** Grafana's unit: `s`, `percentunit`, `short`. */
  unit: string;
  description: string;
  /** PromQL, by legend (Grafana's `{{label}}` templates). */
  queries: { expr: string; legend: string }[];
  /** Grid width (of 24) and height. */
  w: number;
  h: number;
}

const RATE = "$__rate_interval";

export const FLEET_PANELS: DashboardPanel[] = [
  {
    title: "Tenants by instance status",
    type: "timeseries",
    unit: "short",
    description: "Instances as the engine reports them: running, stopped, paused, terminated…",
    queries: [{ expr: "max by (status) (odoo_saas_instances)", legend: "{{status}}" }],
    w: 12,
    h: 8,
  },
  {
    title: "Tenants by billing status",
    type: "timeseries",
    unit: "short",
    description: "Trial, paid, payment required, overdue, suspended, ended.",
    queries: [{ expr: "max by (status) (odoo_saas_billing_status)", legend: "{{status}}" }],
    w: 12,
    h: 8,
  },
  {
    title: "Tenants answering",
    type: "stat",
    unit: "percentunit",
    description: "Share of active tenants whose probe through Traefik succeeds now.",
    queries: [
      {
        expr: 'avg(max by (tenant) (probe_success{job="odoo-saas-tenants"}))',
        legend: "answering",
      },
    ],
    w: 6,
    h: 6,
  },
  {
    title: "Alerts firing",
    type: "stat",
    unit: "short",
    description: "Alerts firing now (their list: Alertmanager, or ALERTS in Prometheus).",
    queries: [{ expr: 'count(ALERTS{alertstate="firing"}) or vector(0)', legend: "firing" }],
    w: 6,
    h: 6,
  },
  {
    title: "Tenants not at their desired state",
    type: "stat",
    unit: "short",
    description: "Tenants whose desired state is not applied yet; long ones page (ReconcileStuck).",
    queries: [
      {
        expr: "count(max by (tenant) (odoo_saas_tenant_unconverged_seconds) > 0) or vector(0)",
        legend: "unconverged",
      },
    ],
    w: 6,
    h: 6,
  },
  {
    title: "Drifted tenants",
    type: "stat",
    unit: "short",
    description: "Tenant stacks changed out of band at their last drift check.",
    queries: [{ expr: "max(odoo_saas_tenants_drifted)", legend: "drifted" }],
    w: 6,
    h: 6,
  },
  {
    title: "Probe success by tenant",
    type: "timeseries",
    unit: "short",
    description: "1 while the tenant answers through Traefik; 0 is a customer who cannot work.",
    queries: [
      { expr: 'max by (tenant) (probe_success{job="odoo-saas-tenants"})', legend: "{{tenant}}" },
    ],
    w: 24,
    h: 8,
  },
  {
    title: "Reconcile duration (p50, p95)",
    type: "timeseries",
    unit: "s",
    description: "Engine runs on tenant stacks (up, destroy), by type.",
    queries: [0.5, 0.95].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le, type) (rate(odoo_saas_operation_duration_seconds_bucket[${RATE}])))`,
      legend: `{{type}} p${q * 100}`,
    })),
    w: 12,
    h: 8,
  },
  {
    title: "Provisioning latency (p50, p95)",
    type: "timeseries",
    unit: "s",
    description: "From a subscription to its tenant answering, over the last hour.",
    queries: [0.5, 0.95].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le) (rate(odoo_saas_provisioning_seconds_bucket[1h])))`,
      legend: `p${q * 100}`,
    })),
    w: 12,
    h: 8,
  },
  {
    title: "Age of the last verified backup",
    type: "table",
    unit: "s",
    description: "Per active tenant, oldest first; over 26 hours pages (BackupMissing).",
    queries: [
      {
        expr: "sort_desc(max by (tenant) (odoo_saas_tenant_backup_age_seconds))",
        legend: "{{tenant}}",
      },
    ],
    w: 12,
    h: 8,
  },
  {
    title: "Since the last successful restore drill",
    type: "stat",
    unit: "s",
    description: "A drill restores a backup into scratch and checks it; over 8 days alerts.",
    queries: [
      {
        expr: "time() - max(odoo_saas_restore_drill_last_success_timestamp)",
        legend: "since",
      },
    ],
    w: 6,
    h: 8,
  },
  {
    title: "Restore drills failing",
    type: "stat",
    unit: "short",
    description: "Tenants whose latest restore drill failed (GET /admin/restore-drills: why).",
    queries: [
      {
        expr: "count(max by (tenant) (odoo_saas_restore_drill_failed)) or vector(0)",
        legend: "failing",
      },
    ],
    w: 6,
    h: 8,
  },
  {
    title: "Shared PostgreSQL connections",
    type: "timeseries",
    unit: "percentunit",
    description: "In use, of max_connections; over 80 % pages (SharedPostgresConnections).",
    queries: [
      {
        expr: "sum by (instance) (pg_stat_activity_count) / on (instance) max by (instance) (pg_settings_max_connections)",
        legend: "{{instance}}",
      },
    ],
    w: 12,
    h: 8,
  },
  {
    title: "Work waiting",
    type: "timeseries",
    unit: "short",
    description: "The API's queues, by queue.",
    queries: [{ expr: "max by (queue) (odoo_saas_queue_depth)", legend: "{{queue}}" }],
    w: 12,
    h: 8,
  },
  {
    title: "Oldest unprocessed webhook and undelivered mail",
    type: "timeseries",
    unit: "s",
    description: "How long Kill Bill's oldest event and the oldest mail have waited.",
    queries: [
      { expr: "max(odoo_saas_webhook_inbox_oldest_seconds)", legend: "webhook" },
      { expr: "max(odoo_saas_mail_undelivered_oldest_seconds)", legend: "mail" },
    ],
    w: 12,
    h: 8,
  },
];

const DATASOURCE = { type: "prometheus", uid: "${DS_PROMETHEUS}" };

/** Panels in rows of 24 columns, left to right. */
function laidOut(panels: DashboardPanel[]) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((p, i) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w: p.w, h: p.h };
    x += p.w;
    rowHeight = Math.max(rowHeight, p.h);
    return {
      id: i + 1,
      type: p.type,
      title: p.title,
      description: p.description,
      datasource: DATASOURCE,
      gridPos,
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: p.type === "table" ? { sortBy: [{ displayName: "Value", desc: true }] } : {},
      targets: p.queries.map((q, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: DATASOURCE,
        expr: q.expr,
        legendFormat: q.legend,
        ...(p.type === "table" ? { instant: true, format: "table" } : {}),
      })),
    };
  });
}

/** The dashboard in Grafana's "export for sharing" form: its data source asked for at import. */
export function fleetDashboard(panels: DashboardPanel[] = FLEET_PANELS) {
  return {
    __inputs: [
      {
        name: "DS_PROMETHEUS",
        label: "Prometheus",
        description: "The platform's Prometheus",
        type: "datasource",
        pluginId: "prometheus",
        pluginName: "Prometheus",
      },
    ],
    title: "odoo-saas fleet",
    uid: "odoo-saas-fleet",
    tags: ["odoo-saas"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "1m",
    time: { from: "now-24h", to: "now" },
    templating: { list: [] },
    annotations: { list: [] },
    panels: laidOut(panels),
  };
}
