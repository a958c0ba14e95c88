import { UnrecoverableError } from "bullmq";
import {
  EngineError,
  FINGERPRINT_OUTPUT,
  StackNotFoundError,
  type TenantStacks,
} from "../../automation";
import { InvalidTenantSpecError } from "../../stacks/tenant/tenant-spec";
import type { ProgressBus } from "../jobs/progress-bus";
import type { Queues } from "../jobs/queues";
import type { Outbox } from "../mail/outbox";
import type { Logger } from "../logger";
import { customerMail, type CustomerNotice } from "../mail/messages";
import type { Metrics } from "../metrics";
import type { OperationStore } from "../store/operation-store";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { DesiredState, Tenant, TenantStore } from "../store/tenant-store";
import type { BackupService } from "./backup-service";

export interface ReconcilerDeps {
  tenants: TenantStore;
  operations: OperationStore;
  stacks: TenantStacks;
  queues: Queues;
  mail: Outbox;
  progress: ProgressBus;
  metrics: Metrics;
  logger: Logger;
  locks: AdvisoryLocks;
  backups: BackupService;
}

/** A reconcile failed; the job may be retried. Carries the generation it was applying. */
export class ReconcileFailedError extends Error {
  override readonly name = "ReconcileFailedError";
  constructor(
    message: string,
    readonly generation: number,
  ) {
    super(message);
  }
}

/** A reconcile that can never succeed as things are: not retried (BullMQ's UnrecoverableError). */
export class GaveUpError extends UnrecoverableError {
  constructor(
    message: string,
    readonly generation: number,
  ) {
    super(message);
  }
}

/** Which customer e-mail a transition deserves (none for a resize or a repeat). */
export function noticeFor(
  previous: DesiredState | null,
  next: DesiredState,
): CustomerNotice | undefined {
  if (next === "active") {
    if (previous === "suspended") return "resumed";
    if (previous === "terminated") return "reactivated";
    return previous === "active" ? undefined : "ready";
  }
  if (next === "suspended") return previous === "active" ? "suspended" : undefined;
  if (next === "terminated")
    return previous && previous !== "terminated" && previous !== "deleted"
      ? "terminated"
      : undefined;
  return previous && previous !== "deleted" ? "deleted" : undefined;
}

/**
 * The backup an operation needs before it changes a provisioned tenant's data or runtime: before
 * it is terminated or destroyed (the final one), and before a plan or Odoo version change.
 */
export function backupBefore(
  t: Tenant,
): "pre-destroy" | "pre-terminate" | "pre-change" | undefined {
  const provisioned = t.observedState !== null && t.observedState !== "deleted";
  if (!provisioned) return undefined;
  if (t.desiredState === "deleted") return "pre-destroy";
  if (t.desiredState === "terminated")
    return t.observedState === "terminated" ? undefined : "pre-terminate";
  const applied = t.outputs ?? {};
  const changes =
    (applied.plan !== undefined && applied.plan !== t.spec.plan) ||
    (applied.odooVersion !== undefined && applied.odooVersion !== t.spec.odooVersion);
  return changes && t.observedState === "active" ? "pre-change" : undefined;
}

/**
 * Makes a tenant's stack match its desired state, generation by generation: `up` for active or
 * suspended, `destroy` for deleted. Idempotent: a tenant already observed at its desired
 * generation is left alone, so duplicate jobs cost one database read.
 */
export class Reconciler {
  constructor(private readonly d: ReconcilerDeps) {}

  async reconcile(tenantId: string): Promise<void> {
    // Loop: a generation set while a run was going on is applied by this same job.
    for (let round = 0; round < 10; round++) {
      const lagging = await this.d.tenants.get(tenantId);
      if (!lagging || lagging.observedGeneration >= lagging.desiredGeneration) return;
      // Under the tenant's lock (no backup or restore meanwhile), read again: another process
      // may have applied it while this one waited.
      await this.d.locks.withLock(tenantId, async () => {
        const tenant = await this.d.tenants.get(tenantId);
        if (tenant && tenant.observedGeneration < tenant.desiredGeneration)
          await this.apply(tenant);
      });
    }
  }

  /** The stack's spec for the tenant's desired state. */
  private stackSpec(t: Tenant) {
    return {
      tenantId: t.id,
      customerId: t.customerId,
      ...t.spec,
      // Terminated is stopped like suspended in the stack: no runtime, no route, data kept.
      state: t.desiredState === "active" ? ("active" as const) : ("suspended" as const),
    };
  }

  /**
   * The stack already runs these exact inputs: its last engine run succeeded with the same
   * fingerprint. A generation that changes nothing the program reads costs a hash, not a run.
   */
  private async inputsUnchanged(t: Tenant, operationId: string): Promise<boolean> {
    const applied = t.outputs?.[FINGERPRINT_OUTPUT];
    if (typeof applied !== "string") return false;
    const fingerprint = await this.d.stacks.fingerprint(this.stackSpec(t)).catch(() => undefined);
    return (
      fingerprint === applied &&
      (await this.d.operations.lastEngineRun(t.id, operationId)) === "succeeded"
    );
  }

  private async apply(t: Tenant): Promise<void> {
    const type = t.desiredState === "deleted" ? "destroy" : "up";
    const generation = t.desiredGeneration;
    const op = await this.d.operations.start(t.id, type, generation);
    const log = this.d.logger.child({ tenantId: t.id, operationId: op.id, generation, type });
    const onProgress = (e: Parameters<ProgressBus["publish"]>[1]) =>
      void this.d.progress
        .publish(op.id, e)
        .catch((err) => log.warn({ err }, "progress not published"));
    const timer = this.d.metrics.operationDuration.startTimer({ type });
    log.info("operation started");
    try {
      let outputs: Record<string, unknown> | null = null;
      let changes: Record<string, number>;
      const before = backupBefore(t);
      if (before) {
        onProgress({
          kind: "diagnostic",
          severity: "info",
          message: `taking the ${before} backup`,
        });
        const onLog = (message: string) =>
          onProgress({ kind: "diagnostic", severity: "info", message });
        const backup =
          before === "pre-change"
            ? ((await this.d.backups.take(t, before, onLog))?.id ?? "none: no tenant data")
            : await this.d.backups.finalBackup(t, before, onLog);
        log.info({ backup, reason: before }, "backup before the change");
      }
      if (type === "destroy") {
        changes = await this.d.stacks.destroy(t.id, { onProgress }).catch((e) => {
          if (e instanceof StackNotFoundError) return {}; // never provisioned, or already gone
          throw e;
        });
      } else if (await this.inputsUnchanged(t, op.id)) {
        outputs = t.outputs;
        changes = {};
        log.info("inputs unchanged since the last successful run: no engine run");
      } else {
        const result = await this.d.stacks.up(this.stackSpec(t), { onProgress });
        outputs = result.outputs;
        changes = result.changes;
        await this.d.tenants.clearDrift(t.id); // the stack matches its program again
      }
      await this.d.tenants.recordApplied(t.id, generation, t.desiredState, outputs, {
        id: op.id,
        changes,
      });
      this.d.metrics.operations.inc({ type, result: "succeeded" });
      onProgress({ kind: "operation-finished", status: "succeeded" });
      log.info({ changes }, "operation succeeded");
      const notice = noticeFor(t.observedState, t.desiredState);
      if (notice && !t.spec.adminEmail)
        log.warn({ notice }, "customer not mailed: the tenant has no admin e-mail");
      else if (notice) {
        const url = typeof outputs?.url === "string" ? outputs.url : undefined;
        await this.d.mail.send(
          customerMail(notice, {
            id: t.id,
            adminEmail: t.spec.adminEmail!,
            url,
            suspendReason: t.suspendReason,
            dataKeptUntil: t.dataKeptUntil,
          }),
        );
      }
    } catch (e) {
      const error = e as Error;
      await this.d.operations.finish(op.id, "failed", {
        error: error.message,
        logTail: e instanceof EngineError ? e.logTail : undefined,
      });
      await this.d.tenants.recordError(t.id, error.message);
      this.d.metrics.operations.inc({ type, result: "failed" });
      onProgress({ kind: "operation-finished", status: "failed", error: error.message });
      log.warn({ error: error.message, kind: error.name }, "operation failed");
      // A spec that cannot be valid will not become valid by retrying.
      if (e instanceof InvalidTenantSpecError) throw new GaveUpError(error.message, generation);
      throw new ReconcileFailedError(error.message, generation);
    } finally {
      timer();
    }
  }
}
