import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics of the API and its workers (one registry, passed in, never global). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhooks: new Counter({
      name: "odoo_saas_webhooks_total",
      help: "Kill Bill webhooks received, by event type and result",
      labelNames: ["event_type", "result"] as const,
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
    billingProblems: new Gauge({
      name: "odoo_saas_billing_problems",
      help: "Kill Bill subscriptions billing a customer who has no instance of them (open problems)",
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "odoo_saas_queue_depth",
      help: "Jobs waiting, delayed or active, by queue",
      labelNames: ["queue"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
