import { UnrecoverableError } from "bullmq";
import {
  EngineError,
  FINGERPRINT_OUTPUT,
  StackLockedError,
  StackNotFoundError,
  type TenantStacks,
  type UpOutcome,
} from "../../automation";
import type { Catalog } from "../../catalog";
import { InvalidTenantSpecError } from "../../stacks/tenant/tenant-spec";
import type { OperationEvent, ProgressBus } from "../jobs/progress-bus";
import type { Queues } from "../jobs/queues";
import type { Logger } from "../common/logger";
import type { Mail } from "../domain/mail";
import {
  customerMail,
  operatorFailureMail,
  planChangeMail,
  type CustomerNotice,
} from "../mail/messages";
import type { Outbox } from "../mail/outbox";
import type { Metrics } from "../common/metrics";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { OperationStore } from "../store/operation-store";
import type { TenantStore } from "../store/tenant-store";
import type { DesiredState, Tenant } from "../domain/tenant";
import type { BackupService } from "./backup-service";
import { appliedPlan, changeSteps, type StackSpec } from "./change-plan";
import type { DatabaseMove, MoveOutcome } from "./database-move";
import type { EdgeProbe } from "./edge-probe";
import type { TenantNodes } from "./tenant-nodes";
import { runtimeRefOf, type TenantRuntime } from "./tenant-runtime";
import type { DatabasePlacement } from "../../components/tenant/database-placement";

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
  moves: DatabaseMove;
  edge: EdgeProbe;
  runtime: TenantRuntime;
  catalog: Catalog;
  operatorEmail: string;
  /** Swarm on several nodes: places a new tenant on one before its first run. */
  nodes?: TenantNodes;
}

/**
 * A reconcile failed; the job may be retried. Carries the generation it was applying, and whether
 * another live update held the tenant's stack (not the change's fault: it is never given up for
 * that, the sweeper tries again).
 */
export class ReconcileFailedError extends Error {
  override readonly name = "ReconcileFailedError";
  constructor(
    message: string,
    readonly generation: number,
    readonly locked = false,
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
 * it is terminated or destroyed (the final one), and before a plan or Odoo version change. (A
 * change that moves the database takes its own, once the source's server runs.)
 */
export function backupBefore(
  t: Tenant,
): "pre-destroy" | "pre-terminate" | "pre-change" | undefined {
  const provisioned = t.observedState !== null && t.observedState !== "deleted";
  if (!provisioned) return undefined;
  if (t.desiredState === "deleted") return "pre-destroy";
  if (t.desiredState === "terminated")
    return t.observedState === "terminated" ? undefined : "pre-terminate";
  const applied = t.appliedSpec ?? t.outputs ?? {};
  const changes =
    (applied.plan !== undefined && applied.plan !== t.spec.plan) ||
    (applied.odooVersion !== undefined && applied.odooVersion !== t.spec.odooVersion);
  return changes && t.observedState === "active" ? "pre-change" : undefined;
}

/**
 * A generation to apply: it lags, and the workers have not given up on it (a job queued before
 * they did, e.g. by the sweeper, must not run it again).
 */
const due = (t: Tenant | undefined): t is Tenant =>
  !!t && t.observedGeneration < t.desiredGeneration && t.gaveUpGeneration !== t.desiredGeneration;

interface RunContext {
  operationId: string;
  log: Logger;
  onProgress: (e: OperationEvent) => void;
  onLog: (message: string) => void;
}

/**
 * Makes a tenant's stack match its desired state, generation by generation: `up` for active or
 * suspended, `destroy` for deleted. Idempotent: a tenant already observed at its desired
 * generation is left alone, so duplicate jobs cost one database read.
 *
 * Safety first: a change of the tenant's state (suspended, terminated, running again) is applied
 * on its own before the rest of a change (plan, version, a database move), so money and access
 * agree even while the rest fails and is retried. A generation counts as applied once the tenant
 * answers through the edge; its customer mails are written with that record, in one transaction.
 */
export class Reconciler {
  constructor(private readonly d: ReconcilerDeps) {}

  async reconcile(tenantId: string): Promise<void> {
    // Loop: a generation set while a run was going on is applied by this same job.
    for (let round = 0; round < 10; round++) {
      if (!due(await this.d.tenants.get(tenantId))) return;
      // Under the tenant's lock (no backup or restore meanwhile), read again: another process
      // may have applied it, or the workers given up on it, while this one waited.
      await this.d.locks.withLock(tenantId, async () => {
        const tenant = await this.d.tenants.get(tenantId);
        if (due(tenant)) await this.apply(tenant);
      });
    }
  }

  /**
   * The workers gave up on a generation: operators are told, the sweeper leaves it alone, and a
   * customer waiting for a plan change learns that it is delayed (their instance runs as before).
   */
  async gaveUp(tenantId: string, generation: number | undefined, error: string): Promise<void> {
    if (generation !== undefined) await this.d.tenants.recordGaveUp(tenantId, generation);
    await this.d.mail.send(operatorFailureMail(this.d.operatorEmail, tenantId, error));
    const t = await this.d.tenants.get(tenantId);
    const from = t && appliedPlan(t);
    if (t?.spec.adminEmail && from && from !== t.spec.plan && t.desiredState === "active")
      await this.d.mail.send(
        planChangeMail("delayed", {
          id: t.id,
          adminEmail: t.spec.adminEmail,
          from: this.planName(from),
          to: this.planName(t.spec.plan),
        }),
      );
  }

  /**
   * The stack already runs these exact inputs: its last engine run succeeded with the same
   * fingerprint. A generation that changes nothing the program reads costs a hash, not a run.
   */
  private async inputsUnchanged(t: Tenant, spec: StackSpec, operationId: string) {
    const applied = t.outputs?.[FINGERPRINT_OUTPUT];
    if (typeof applied !== "string") return false;
    const fingerprint = await this.d.stacks.fingerprint(spec).catch(() => undefined);
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
    const onProgress = (e: OperationEvent) =>
      void this.d.progress
        .publish(op.id, e)
        .catch((err) => log.warn({ err }, "progress not published"));
    const onLog = (message: string) =>
      onProgress({ kind: "diagnostic", severity: "info", message });
    const ctx: RunContext = { operationId: op.id, log, onProgress, onLog };
    const timer = this.d.metrics.operationDuration.startTimer({ type });
    log.info("operation started");
    let accessApplied = false;
    try {
      if (type === "destroy") await this.destroy(t, ctx);
      else accessApplied = await this.up(t, ctx);
      this.d.metrics.operations.inc({ type, result: "succeeded" });
      onProgress({ kind: "operation-finished", status: "succeeded" });
    } catch (e) {
      const error = e as Error;
      const message = accessApplied
        ? `${error.message} (the tenant is ${t.desiredState}: that part of the change was applied)`
        : error.message;
      await this.d.operations.finish(op.id, "failed", {
        error: message,
        logTail: e instanceof EngineError ? e.logTail : undefined,
      });
      await this.d.tenants.recordError(t.id, message);
      this.d.metrics.operations.inc({ type, result: "failed" });
      onProgress({ kind: "operation-finished", status: "failed", error: message });
      log.warn({ error: message, kind: error.name }, "operation failed");
      // A spec that cannot be valid will not become valid by retrying.
      if (e instanceof InvalidTenantSpecError) throw new GaveUpError(message, generation);
      throw new ReconcileFailedError(message, generation, e instanceof StackLockedError);
    } finally {
      timer();
    }
  }

  private async destroy(t: Tenant, ctx: RunContext): Promise<void> {
    const before = backupBefore(t);
    if (before) {
      ctx.onLog(`taking the ${before} backup`);
      const backup = await this.d.backups.finalBackup(t, before as "pre-destroy", ctx.onLog);
      ctx.log.info({ backup, reason: before }, "backup before the change");
    }
    const changes = await this.d.stacks.destroy(t.id, { onProgress: ctx.onProgress }).catch((e) => {
      if (e instanceof StackNotFoundError) return {}; // never provisioned, or already gone
      throw e;
    });
    await this.record(t, t, {
      generation: t.desiredGeneration,
      outputs: null,
      operation: { id: ctx.operationId, changes },
    });
  }

  /** Carries out an active or suspended generation; whether its state was applied on its own. */
  private async up(t: Tenant, ctx: RunContext): Promise<boolean> {
    const node = await this.d.nodes?.place(t);
    if (node && node !== t.node) {
      ctx.onLog(`placed on node ${node}`);
      t = { ...t, node };
    }
    const steps = changeSteps(t, this.d.catalog);
    let current = t;
    if (steps.access) {
      ctx.onLog(`applying the state (${t.desiredState}) before the rest of the change`);
      const result = await this.d.stacks.up(steps.access, { onProgress: ctx.onProgress });
      await this.record(t, current, { outputs: result.outputs, appliedSpec: steps.access });
      current = (await this.d.tenants.get(t.id)) ?? current;
    }
    const before = steps.move ? undefined : backupBefore(current);
    if (before) {
      ctx.onLog(`taking the ${before} backup`);
      const backup =
        before === "pre-change"
          ? ((await this.d.backups.take(current, before, ctx.onLog))?.id ?? "none: no tenant data")
          : await this.d.backups.finalBackup(current, before as "pre-terminate", ctx.onLog);
      ctx.log.info({ backup, reason: before }, "backup before the change");
    }
    let result: UpOutcome | MoveOutcome;
    let spec = steps.final;
    if (steps.move) {
      result = await this.d.moves.run(current, steps.final, steps.move, ctx);
      spec = (result as MoveOutcome).spec;
    } else if (await this.inputsUnchanged(current, spec, ctx.operationId)) {
      result = { outputs: current.outputs ?? {}, changes: {}, durationSeconds: 0 };
      ctx.log.info("inputs unchanged since the last successful run: no engine run");
    } else {
      result = await this.d.stacks.up(spec, { onProgress: ctx.onProgress });
      await this.d.tenants.clearDrift(t.id); // the stack matches its program again
    }
    if (steps.abandonedMove && spec.state === "active") {
      // The move had stopped Odoo; the stack still says it runs, so the run above left it stopped.
      const runtime = runtimeRefOf(current);
      if (runtime) await this.d.runtime.start(runtime);
      ctx.onLog("the database move is no longer needed: abandoned, Odoo runs on as before");
    }
    const url = typeof result.outputs.url === "string" ? result.outputs.url : undefined;
    if (spec.state === "active" && url) {
      ctx.onLog(`waiting for ${url} to answer through the edge`);
      await this.d.edge.answering(url, spec.odooVersion);
    }
    const moved = steps.move ? (result as MoveOutcome) : undefined;
    const downtimeMs = moved?.stoppedAt ? Date.now() - moved.stoppedAt : undefined;
    if (downtimeMs !== undefined) this.d.metrics.databaseMoveDowntime.observe(downtimeMs / 1000);
    await this.record(t, current, {
      generation: t.desiredGeneration,
      outputs: result.outputs,
      appliedSpec: spec,
      // Where the data is, as this run served it (which also ends any move's record).
      databasePlacement: spec.databases.serving,
      operation: {
        id: ctx.operationId,
        changes: result.changes,
        ...(moved
          ? {
              details: {
                databaseMove: {
                  from: moved.from,
                  to: moved.to,
                  downtimeMs: downtimeMs ?? null,
                  backupId: moved.backupId ?? null,
                  ...moved.copied,
                },
              },
            }
          : {}),
      },
    });
    ctx.log.info({ changes: result.changes, downtimeMs }, "operation succeeded");
    return !!steps.access;
  }

  /**
   * Records what a run applied, with the customer's mails about what it carried out (from the
   * tenant as it was before that run), in one transaction; then queues the mails.
   */
  private async record(
    t: Tenant,
    before: Tenant,
    r: {
      generation?: number;
      outputs: Record<string, unknown> | null;
      appliedSpec?: StackSpec;
      databasePlacement?: DatabasePlacement;
      operation?: {
        id: string;
        changes: Record<string, number>;
        details?: Record<string, unknown>;
      };
    },
  ): Promise<void> {
    const ids = await this.d.tenants.recordApplied(t.id, {
      ...r,
      state: t.desiredState,
      appliedSpec: r.appliedSpec as Record<string, unknown> | undefined,
      mails: this.mailsFor(t, before, r.appliedSpec, r.outputs),
    });
    for (const id of ids) await this.d.queues.requestMail(id);
    // First time active: from the tenant's creation (its subscription) to answering.
    if (before.observedState === null && t.desiredState === "active")
      this.d.metrics.provisioning.observe((Date.now() - Date.parse(t.createdAt)) / 1000);
  }

  /** The customer mails for a run that took the tenant from `before` to `spec`. */
  private mailsFor(
    t: Tenant,
    before: Tenant,
    spec: StackSpec | undefined,
    outputs: Record<string, unknown> | null,
  ): Mail[] {
    const notice = noticeFor(before.observedState, t.desiredState);
    const to = t.spec.adminEmail;
    const wanted = [notice, spec && appliedPlan(before) !== spec.plan].some(Boolean);
    if (!to) {
      if (wanted)
        this.d.logger.warn(
          { tenantId: t.id, notice },
          "customer not mailed: the tenant has no admin e-mail",
        );
      return [];
    }
    const url = typeof outputs?.url === "string" ? outputs.url : undefined;
    const mails: Mail[] = [];
    if (notice)
      mails.push(
        customerMail(notice, {
          id: t.id,
          adminEmail: to,
          url,
          suspendReason: t.suspendReason,
          dataKeptUntil: t.dataKeptUntil,
        }),
      );
    const from = appliedPlan(before);
    // A resize is told once the instance answers on the new plan (a stopped one is not resized
    // for anybody to see; its customer hears that it is suspended, or back).
    if (spec && from && from !== spec.plan && t.desiredState === "active" && !notice)
      mails.push(
        planChangeMail("done", {
          id: t.id,
          adminEmail: to,
          from: this.planName(from),
          to: this.planName(spec.plan),
          url,
        }),
      );
    return mails;
  }

  private planName(id: string): string {
    return this.d.catalog.plan(id)?.displayName ?? id;
  }
}
