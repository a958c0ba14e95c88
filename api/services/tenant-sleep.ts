import type { Catalog } from "../../catalog";
import type { Logger } from "../common/logger";
import type { Metrics } from "../common/metrics";
import type { Queues } from "../jobs/queues";
import type { TenantSleepStore } from "../store/tenant-sleep-store";

export interface TenantSleepDeps {
  store: TenantSleepStore;
  queues: Pick<Queues, "requestReconcile">;
  catalog: Catalog;
  logger: Logger;
  metrics: Pick<Metrics, "sleepTransitions">;
  /** Whether the platform's gateways can wake a tenant: without a waker, nothing sleeps. */
  wakerConfigured: () => Promise<boolean>;
  /** The length of a minute of the catalog's sleep policies, in seconds (60; tests shorten it). */
  minuteSeconds: number;
}

export type WakeReason = "request" | "schedule" | "policy";

/**
 * Idle tenants sleep and wake (the catalog's `sleep` policy per plan). A sleep or a wake is a new
 * desired generation applied by the reconciler, through the tenant's program like every change:
 * asleep, the stack stops Odoo and keeps it routed to its gateway, which wakes it on the next
 * request (images/tenant-gateway). Billing decides whether a tenant may run at all; sleep only
 * whether it runs now: a suspended, held, moving or changing tenant is never put to sleep.
 */
export class TenantSleep {
  constructor(private readonly d: TenantSleepDeps) {}

  /** One round: idle tenants put to sleep; sleepers due for their crons, or whose plan no longer sleeps, woken. */
  async sweep(): Promise<{ slept: string[]; woken: string[] }> {
    const slept: string[] = [];
    const woken: string[] = [];
    if (!(await this.d.wakerConfigured())) return { slept, woken };
    const policies = new Map(
      this.d.catalog.plans.filter((p) => p.sleep).map((p) => [p.id, p.sleep!] as const),
    );
    const minute = this.d.minuteSeconds;
    for (const t of await this.d.store.awake([...policies.keys()])) {
      const idleAfter = policies.get(t.plan)!.afterIdleMinutes * minute;
      if (t.idleSeconds < idleAfter || !(await this.d.store.sleep(t.id, idleAfter))) continue;
      this.d.metrics.sleepTransitions.inc({ to: "sleeping", reason: "idle" });
      this.d.logger.info(
        { tenantId: t.id, idleSeconds: Math.round(t.idleSeconds) },
        "tenant idle: put to sleep",
      );
      await this.d.queues.requestReconcile(t.id);
      slept.push(t.id);
    }
    for (const t of await this.d.store.asleep()) {
      const policy = policies.get(t.plan);
      const due = policy && t.asleepSeconds >= policy.wakeForCronsEveryHours * 60 * minute;
      if ((!policy || due) && (await this.wake(t.id, policy ? "schedule" : "policy")))
        woken.push(t.id);
    }
    return { slept, woken };
  }

  /** Wakes the tenant if it sleeps; true if this call woke it (concurrent calls: one does). */
  async wake(tenantId: string, reason: WakeReason): Promise<boolean> {
    if (!(await this.d.store.wake(tenantId))) return false;
    this.d.metrics.sleepTransitions.inc({ to: "awake", reason });
    this.d.logger.info({ tenantId, reason }, "tenant woken");
    await this.d.queues.requestReconcile(tenantId);
    return true;
  }

  recordActivity(tenantId: string): Promise<void> {
    return this.d.store.recordActivity(tenantId);
  }

  gatewayTokenHash(tenantId: string): Promise<string | undefined> {
    return this.d.store.gatewayTokenHash(tenantId);
  }
}
