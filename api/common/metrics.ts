import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BILLING_STATUSES } from "../domain/tenant";
import type { FleetHealth } from "../domain/fleet-health";

/** Prometheus metrics of the API and its workers (one registry, passed in, never global). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  /** Counts instances by status when /metrics is scraped (set once the tenant service exists). */
  const instanceSource: { count?: () => Promise<Record<string, number>> } = {};
  /** Counts billed tenants by billing status when /metrics is scraped. */
  const billingStatusSource: { count?: () => Promise<Record<string, number>> } = {};
  /** Counts tenants whose latest drift check found changes, when /metrics is scraped. */
  const driftSource: { count?: () => Promise<number> } = {};
  /** Counts quarantined billing work by kind, when /metrics is scraped. */
  const billingQuarantineSource: { count?: () => Promise<Record<string, number>> } = {};
  /** Counts tenants stranded on a node that is down, drained or paused, by node, when scraped. */
  const strandedSource: { count?: () => Promise<Record<string, number>> } = {};
  /** What the alert rules read from the store, once per scrape for all the gauges below. */
  const fleetHealthSource: { read?: () => Promise<FleetHealth> } = {};
  let health: { at: number; read: Promise<FleetHealth> } | undefined;
  const fleetHealth = async (): Promise<FleetHealth | undefined> => {
    if (!fleetHealthSource.read) return undefined;
    if (!health || Date.now() - health.at > 1000)
      health = { at: Date.now(), read: fleetHealthSource.read() };
    return health.read;
  };
  /** A gauge per tenant read from the fleet's health at each scrape (only tenants it names). */
  const perTenant = (name: string, help: string, values: (h: FleetHealth) => Map<string, number>) =>
    new Gauge({
      name,
      help,
      labelNames: ["tenant"] as const,
      registers: [registry],
      async collect() {
        const h = await fleetHealth();
        if (!h) return;
        this.reset();
        for (const [tenant, v] of values(h)) this.set({ tenant }, v);
      },
    });
  /** One figure of the fleet's health, read from the store at each scrape. */
  const fleetFigure = (name: string, help: string, value: (h: FleetHealth) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const h = await fleetHealth();
        if (h) this.set(value(h));
      },
    });
  return {
    strandedSource,
    fleetHealthSource,
    instanceSource,
    billingQuarantineSource,
    billingStatusSource,
    driftSource,
    registry,
    webhooks: new Counter({
      name: "odoo_saas_webhooks_total",
      help: "Kill Bill webhooks received, by event type and result",
      labelNames: ["event_type", "result"] as const,
      registers: [registry],
    }),
    sleepTransitions: new Counter({
      name: "odoo_saas_tenant_sleep_transitions_total",
      help: "Idle tenants put to sleep (to=sleeping) and woken (to=awake), by reason",
      labelNames: ["to", "reason"] as const,
      registers: [registry],
    }),
    operations: new Counter({
      name: "odoo_saas_operations_total",
      help: "Engine operations on tenant stacks, by type and result",
      labelNames: ["type", "result"] as const,
      registers: [registry],
    }),
    operationDuration: new Histogram({
      name: "odoo_saas_operation_duration_seconds",
      help: "Wall time of engine operations on tenant stacks",
      labelNames: ["type"] as const,
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    provisioning: new Histogram({
      name: "odoo_saas_provisioning_seconds",
      help: "From a tenant's creation (its subscription) to its first time active and answering",
      buckets: [5, 10, 20, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
    billingProblems: new Gauge({
      name: "odoo_saas_billing_problems",
      help: "Kill Bill subscriptions billing a customer who has no instance of them (open problems)",
      registers: [registry],
    }),
    backups: new Counter({
      name: "odoo_saas_backups_total",
      help: "Tenant backups, by reason and result (succeeded means verified)",
      labelNames: ["reason", "result"] as const,
      registers: [registry],
    }),
    backupDuration: new Histogram({
      name: "odoo_saas_backup_duration_seconds",
      help: "Wall time of a tenant backup, verification included",
      buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
    instances: new Gauge({
      name: "odoo_saas_instances",
      help: "Tenant instances by status (creating, running, stopped, paused, terminated, deleted, error)",
      labelNames: ["status"] as const,
      registers: [registry],
      async collect() {
        if (!instanceSource.count) return;
        this.reset();
        for (const [status, n] of Object.entries(await instanceSource.count()))
          this.set({ status }, n);
      },
    }),
    billingStatuses: new Gauge({
      name: "odoo_saas_billing_status",
      help: "Billed tenants (not deleted) by billing status (trial, payment_required, paid, overdue, suspended, ended)",
      labelNames: ["status"] as const,
      registers: [registry],
      async collect() {
        if (!billingStatusSource.count) return;
        this.reset();
        const counts = await billingStatusSource.count();
        for (const status of BILLING_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    }),
    driftedTenants: new Gauge({
      name: "odoo_saas_tenants_drifted",
      help: "Tenants whose latest drift check found resources changed or deleted out of band",
      registers: [registry],
      async collect() {
        if (driftSource.count) this.set(await driftSource.count());
      },
    }),
    driftChecks: new Counter({
      name: "odoo_saas_drift_checks_total",
      help: "Drift checks of tenant stacks, by result (clean, drifted, failed)",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    databaseMoveDowntime: new Histogram({
      name: "odoo_saas_database_move_downtime_seconds",
      help: "How long a tenant did not answer while its database moved (Odoo stopped -> answering through the edge)",
      buckets: [5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
    nodeMoveDowntime: new Histogram({
      name: "odoo_saas_node_move_downtime_seconds",
      help: "How long a tenant did not answer while it moved between nodes (Odoo stopped -> answering through the edge)",
      buckets: [5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
    strandedTenants: new Gauge({
      name: "odoo_saas_stranded_tenants",
      help: "Tenants pinned to a Swarm node that is down, drained or paused and not moving off it, by node",
      labelNames: ["node"] as const,
      registers: [registry],
      async collect() {
        if (!strandedSource.count) return;
        this.reset();
        for (const [node, n] of Object.entries(await strandedSource.count())) this.set({ node }, n);
      },
    }),
    billingQuarantined: new Gauge({
      name: "odoo_saas_billing_quarantined",
      help: "Billing work that failed and waits for its retry (event, subscription, account), by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
      async collect() {
        if (!billingQuarantineSource.count) return;
        for (const [kind, n] of Object.entries(await billingQuarantineSource.count()))
          this.set({ kind }, n);
      },
    }),
    tenantBackupAge: perTenant(
      "odoo_saas_tenant_backup_age_seconds",
      "Active tenants: seconds since their newest verified backup (since created when none)",
      (h) => h.backupAge,
    ),
    tenantUnconverged: perTenant(
      "odoo_saas_tenant_unconverged_seconds",
      "Tenants behind their desired state (and not given up on): seconds since the change began",
      (h) => h.unconverged,
    ),
    tenantGivenUp: perTenant(
      "odoo_saas_tenant_reconcile_given_up",
      "Tenants whose desired state the workers gave up applying (1 each)",
      (h) => new Map(h.givenUp.map((tenant) => [tenant, 1])),
    ),
    restoreDrillFailed: perTenant(
      "odoo_saas_restore_drill_failed",
      "Active tenants whose latest restore drill failed (1 each)",
      (h) => new Map(h.drillFailing.map((tenant) => [tenant, 1])),
    ),
    restoreDrillLastSuccess: fleetFigure(
      "odoo_saas_restore_drill_last_success_timestamp",
      "When a restore drill last succeeded (before the first: when the oldest backup in the repository was taken)",
      (h) => h.drillLastSuccess,
    ),
    usageMeasurementAge: perTenant(
      "odoo_saas_tenant_usage_measurement_age_seconds",
      "Measured tenants (active or suspended): seconds since their usage was last measured (since created when never)",
      (h) => h.usageMeasurementAge,
    ),
    usageUnrecorded: perTenant(
      "odoo_saas_tenant_usage_days_unrecorded",
      "Closed days of a tenant's usage Kill Bill does not have: failing to record, or too late to be billed",
      (h) => h.usageUnrecorded,
    ),
    overLimit: new Gauge({
      name: "odoo_saas_tenant_over_limit",
      help: "Tenants past a cap of their plan, by unit: the measured amount (the cap is in the tenant view)",
      labelNames: ["tenant", "unit"] as const,
      registers: [registry],
      async collect() {
        const h = await fleetHealth();
        if (!h) return;
        this.reset();
        for (const o of h.overLimit) this.set({ tenant: o.tenant, unit: o.unit }, o.amount);
      },
    }),
    usageMeasurements: new Counter({
      name: "odoo_saas_usage_measurements_total",
      help: "Tenant usage measurements, by result",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    usageRecords: new Counter({
      name: "odoo_saas_usage_records_total",
      help: "Days of usage sent to Kill Bill, by result (recorded, duplicate, failed, outside_window, not_billed)",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    monitoringHeartbeatAge: new Gauge({
      name: "odoo_saas_monitoring_heartbeat_age_seconds",
      help: "Seconds since Alertmanager's last heartbeat reached the API (its watch mails a silence)",
      registers: [registry],
    }),
    restoreDrills: new Counter({
      name: "odoo_saas_restore_drills_total",
      help: "Restore drills, by result",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    inboxOldest: fleetFigure(
      "odoo_saas_webhook_inbox_oldest_seconds",
      "Age of the oldest Kill Bill event not processed yet (0 when none waits)",
      (h) => h.inboxOldest,
    ),
    mailOldest: fleetFigure(
      "odoo_saas_mail_undelivered_oldest_seconds",
      "Age of the oldest mail not delivered yet (0 when none waits)",
      (h) => h.mailOldest,
    ),
    queueDepth: new Gauge({
      name: "odoo_saas_queue_depth",
      help: "Jobs waiting, delayed or active, by queue",
      labelNames: ["queue"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
