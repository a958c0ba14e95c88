import {
  USAGE_UNITS,
  USAGE_UNIT_NAMES,
  usageAmounts,
  type Catalog,
  type Plan,
  type UsageMeasurement,
  type UsageUnit,
} from "../../catalog";
import { ConflictError, NotFoundError } from "../common/errors";
import type { Logger } from "../common/logger";
import type { Metrics } from "../common/metrics";
import { KillBillError } from "../killbill/client";
import { usageLimitMail } from "../mail/messages";
import { spreadOffset } from "./spread-offset";
import type { Outbox } from "../mail/outbox";
import type { TenantStore } from "../store/tenant-store";
import type { UsageDay, UsageStore } from "../store/usage-store";

/** Reads a tenant's usage without waking it, and puts its plan's blocking limits in force. */
export interface UsageProbe {
  measure(
    tenantId: string,
    caps: { users?: number; storageBytes?: number },
  ): Promise<UsageMeasurement & { storageBlocked: boolean }>;
}

/** Where usage days go: Kill Bill's usage API (KillBillClient.recordUsage). */
export interface UsageRecorder {
  recordUsage(u: {
    subscriptionId: string;
    trackingId: string;
    unit: string;
    day: string;
    amount: number;
  }): Promise<string>;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Kill Bill's refusal of a tracking id it has already recorded. */
export function isAlreadyRecorded(err: Error): boolean {
  return (
    err instanceof KillBillError && /already (exists|recorded)|tracking ?id/i.test(err.message)
  );
}

/** The first day Kill Bill still recomputes, counted conservatively from today (UTC). */
export function lateWindowStart(now: Date, months: number): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, now.getUTCDate()));
  // 31 March minus one month is 3 March in Date's arithmetic: clamp to the month's last day.
  if (d.getUTCDate() !== now.getUTCDate()) d.setUTCDate(0);
  return isoDay(d);
}

/** Whether `amount` of a unit is at or past the plan's cap: at it already blocks the next one. */
export function pastCap(plan: Plan, unit: UsageUnit, amount: number): number | undefined {
  const cap = plan.usage?.[unit].cap;
  if (cap === undefined) return undefined;
  const block = plan.usage!.overLimit === "block";
  return (block ? amount >= cap : amount > cap) ? cap : undefined;
}

/**
 * Usage metering (catalog/usage-units.ts): every provisioned tenant measured a few times a day
 * (each day keeps its peak), each closed day recorded once in Kill Bill with the tracking id
 * `<tenant>:<unit>:<day>`, and a plan's caps watched: the customer mailed, the operator shown,
 * and on a blocking plan the limit put in force in the tenant's database. Tenants are measured
 * one at a time (a short agent run each), so a run never loads the shared server.
 */
export class UsageMeter {
  constructor(
    private readonly d: {
      usage: UsageStore;
      tenants: TenantStore;
      catalog: Catalog;
      probe: UsageProbe;
      /** Absent without Kill Bill: days are measured and kept, never recorded. */
      recorder?: UsageRecorder;
      mail: Outbox;
      metrics: Metrics;
      logger: Logger;
      now: () => Date;
      /** Kill Bill's org.killbill.invoice.readMaxRawUsagePreviousPeriod (2). */
      lateWindowMonths: number;
      /** Queues one tenant's measurement of run `run` after `delayMs` (the usage queue). */
      schedule: (tenantId: string, run: string, delayMs: number) => Promise<void>;
      /** The window a run's measurements are spread over, like the nightly backups. */
      spreadMs: number;
    },
  ) {}

  /**
   * One run: the closed days Kill Bill does not have are sent, then every tenant due is queued
   * for its measurement at its own offset in the window (the same every run).
   */
  async run(): Promise<{ scheduled: number; recorded: number; unrecorded: number }> {
    const { recorded, unrecorded } = await this.recordClosedDays();
    const now = this.d.now();
    const run = now.toISOString().slice(0, 16).replace(/[-:]/g, "");
    const due = await this.d.usage.meterable(now);
    for (const t of due) await this.d.schedule(t.id, run, spreadOffset(t.id, this.d.spreadMs));
    const result = { scheduled: due.length, recorded, unrecorded };
    this.d.logger.info(result, "usage metering run");
    return result;
  }

  /** One queued measurement: the tenant as it is now (its plan, its day), if still measured. */
  async measureOne(tenantId: string): Promise<boolean> {
    const [t] = await this.d.usage.meterable(this.d.now(), tenantId);
    return t ? this.measure(t.id, t.plan, t.day) : false;
  }

  /** Measures one tenant for `day`; false (the error kept, never a zero) when it could not. */
  private async measure(tenantId: string, planId: string, day: string): Promise<boolean> {
    const at = this.d.now();
    const plan = this.d.catalog.plan(planId);
    const log = this.d.logger.child({ tenantId, day });
    try {
      if (!plan) throw new Error(`plan ${planId} is not in the catalog`);
      const block = plan.usage?.overLimit === "block";
      const found = await this.d.probe.measure(tenantId, {
        users: block ? plan.usage!.users.cap : undefined,
        storageBytes:
          block && plan.usage!.storageGb.cap !== undefined
            ? plan.usage!.storageGb.cap * 1e9
            : undefined,
      });
      const amounts = usageAmounts(found);
      await this.d.usage.addMeasurement({ tenantId, plan: planId, day, at }, found, amounts);
      this.d.metrics.usageMeasurements.inc({ result: "succeeded" });
      await this.watchCaps(tenantId, plan, amounts);
      return true;
    } catch (e) {
      const error = (e as Error).message;
      await this.d.usage.addFailure({ tenantId, plan: planId, day, at }, error);
      this.d.metrics.usageMeasurements.inc({ result: "failed" });
      log.warn({ error }, "usage measurement failed");
      return false;
    }
  }

  /** Past a cap: the customer mailed once per crossing; back under it, the mark goes. */
  private async watchCaps(tenantId: string, plan: Plan, amounts: Record<UsageUnit, number>) {
    for (const unit of USAGE_UNIT_NAMES) {
      const cap = pastCap(plan, unit, amounts[unit]);
      if (cap === undefined) {
        await this.d.usage.clearOver(tenantId, unit);
        continue;
      }
      if (!(await this.d.usage.markOver(tenantId, unit, amounts[unit], cap))) continue;
      this.d.logger.info({ tenantId, unit, amount: amounts[unit], cap }, "tenant past its cap");
      const t = await this.d.tenants.get(tenantId);
      if (t?.spec.adminEmail) {
        await this.d.mail.send(
          usageLimitMail({
            to: t.spec.adminEmail,
            tenantId,
            plan: plan.displayName,
            unit: USAGE_UNITS[unit].label,
            amount: amounts[unit],
            cap,
            blocked: plan.usage!.overLimit === "block",
          }),
        );
        await this.d.usage.markNotified(tenantId, unit);
      }
    }
  }

  /**
   * Sends each closed day Kill Bill does not have yet, oldest first. A day its plan does not bill
   * (or a tenant billed outside Kill Bill) is settled as such; one older than Kill Bill's
   * recompute window is kept as too late (alerted: UsageNotRecorded). Kill Bill unreachable
   * ends the pass: the days wait for the next run.
   */
  async recordClosedDays(): Promise<{ recorded: number; unrecorded: number }> {
    const now = this.d.now();
    const windowStart = lateWindowStart(now, this.d.lateWindowMonths);
    let recorded = 0;
    let unrecorded = 0;
    for (const day of await this.d.usage.closedUnrecorded(isoDay(now))) {
      const outcome = await this.record(day, windowStart);
      this.d.metrics.usageRecords.inc({ result: outcome });
      if (outcome === "recorded" || outcome === "duplicate") recorded++;
      else if (outcome !== "not_billed") unrecorded++;
      if (outcome === "unreachable") break;
    }
    return { recorded, unrecorded };
  }

  private async record(
    day: UsageDay,
    windowStart: string,
  ): Promise<
    "recorded" | "duplicate" | "not_billed" | "outside_window" | "failed" | "unreachable"
  > {
    const plan = this.d.catalog.plan(day.plan);
    const tenant = await this.d.tenants.get(day.tenantId);
    const subscriptionId = tenant?.killbillSubscriptionId;
    if (!plan?.usage?.[day.unit].tiers.length || !subscriptionId || !this.d.recorder) {
      await this.d.usage.markSettled(
        day,
        "not_billed",
        !subscriptionId
          ? "not billed through Kill Bill"
          : !this.d.recorder
            ? "Kill Bill is not configured"
            : `the ${day.plan} plan does not bill ${day.unit}`,
      );
      return "not_billed";
    }
    if (day.day < windowStart) {
      await this.d.usage.markSettled(
        day,
        "outside_window",
        `too late for Kill Bill: days before ${windowStart} are no longer recomputed`,
      );
      this.d.logger.warn({ ...day }, "usage day too late to be billed");
      return "outside_window";
    }
    try {
      const answer = await this.d.recorder.recordUsage({
        subscriptionId,
        trackingId: day.trackingId,
        unit: USAGE_UNITS[day.unit].killbillUnit,
        day: day.day,
        amount: day.amount,
      });
      await this.d.usage.markRecorded(day, subscriptionId, answer);
      return "recorded";
    } catch (e) {
      const err = e as Error;
      // Sent before, its answer lost (a crash between the two): Kill Bill has it already.
      if (isAlreadyRecorded(err)) {
        await this.d.usage.markRecorded(day, subscriptionId, `already recorded: ${err.message}`);
        return "duplicate";
      }
      await this.d.usage.markFailed(day, err.message);
      this.d.logger.warn(
        { trackingId: day.trackingId, error: err.message },
        "usage day not recorded",
      );
      return err instanceof KillBillError && err.status === undefined ? "unreachable" : "failed";
    }
  }

  /** What the operator sees of a tenant's usage: the last measurement, its limits, its days. */
  async view(tenantId: string, from?: string, to?: string) {
    const t = await this.d.tenants.get(tenantId);
    if (!t) throw new NotFoundError(`tenant ${tenantId} not found`);
    const plan = this.d.catalog.plan(t.spec.plan);
    const today = isoDay(this.d.now());
    const { ok, failed } = await this.d.usage.latest(tenantId);
    return {
      tenantId,
      plan: t.spec.plan,
      allowance: plan?.usage
        ? {
            overLimit: plan.usage.overLimit,
            users: { included: plan.usage.users.included, cap: plan.usage.users.cap ?? null },
            storageGb: {
              included: plan.usage.storageGb.included,
              cap: plan.usage.storageGb.cap ?? null,
            },
          }
        : null,
      lastMeasurement: ok && {
        measuredAt: new Date(ok.measured_at).toISOString(),
        users: ok.users,
        databaseBytes: Number(ok.database_bytes),
        filestoreBytes: Number(ok.filestore_bytes),
      },
      lastFailure:
        failed && (!ok || new Date(failed.measured_at) > new Date(ok.measured_at))
          ? { measuredAt: new Date(failed.measured_at).toISOString(), error: failed.error }
          : null,
      overLimit: await this.d.usage.overLimits(tenantId),
      days: await this.d.usage.days(
        tenantId,
        from ?? lateWindowStart(new Date(today), 2),
        to ?? today,
      ),
    };
  }

  /**
   * An operator's correction of a day not yet in Kill Bill (failing, too late, or not closed):
   * the amount replaced, who said so kept, and the day sent on the next run. A day Kill Bill has
   * is corrected there (an invoice adjustment), not here: 409.
   */
  async correct(tenantId: string, unit: UsageUnit, day: string, amount: number, by: string) {
    const done = await this.d.usage.correct(tenantId, unit, day, amount, by);
    if (done) return done;
    const [existing] = (await this.d.usage.days(tenantId, day, day)).filter((x) => x.unit === unit);
    if (!existing) throw new NotFoundError(`no ${unit} usage of ${tenantId} on ${day}`);
    throw new ConflictError(
      `${unit} of ${tenantId} on ${day} is recorded in Kill Bill (${existing.trackingId}): adjust the invoice there`,
    );
  }
}
