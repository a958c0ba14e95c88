import type { TenantStacks } from "../../automation";
import type { TenantBackups } from "../../backup/tenant-backups";
import type { Catalog } from "../../catalog";
import { ConflictError, NotFoundError, ValidationError } from "../common/errors";
import type { Logger } from "../common/logger";
import type { Metrics } from "../common/metrics";
import type { NodeMoveProgress, Tenant } from "../domain/tenant";
import type { ProgressBus } from "../jobs/progress-bus";
import type { Queues, TenantOpJob } from "../jobs/queues";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { Operation, OperationStore } from "../store/operation-store";
import type { TenantStore } from "../store/tenant-store";
import type { BackupService } from "./backup-service";
import { currentPlacement, stackSpecOf } from "./change-plan";
import type { EdgeProbe } from "./edge-probe";
import type { NodeResources } from "./node-capacity";
import { runtimeRefOf, type TenantRuntime } from "./tenant-runtime";

export interface NodeMoveDeps {
  tenants: TenantStore;
  operations: OperationStore;
  stacks: TenantStacks;
  backups: BackupService;
  engine: TenantBackups;
  runtime: TenantRuntime;
  locks: AdvisoryLocks;
  queues: Queues;
  progress: ProgressBus;
  edge: EdgeProbe;
  metrics: Metrics;
  logger: Logger;
  catalog: Catalog;
  /** The Swarm's ready, active nodes. */
  nodes: () => Promise<NodeResources[]>;
  now?: () => Date;
}

/** What a move did, as its operation's details. */
export interface NodeMoveResult {
  from: string;
  to: string;
  backupId: string;
  files: number;
  /** Odoo stopped -> answering on the target; null when it was not running. */
  downtimeMs: number | null;
  /** Where the downtime went (ms): the backup, the restore, the switch's run, until it answered. */
  steps?: { backup: number; restore: number; switch: number; answering: number };
}

/**
 * Moves a tenant between the nodes of a Swarm (its local filestore volume; the database stays on
 * the shared server), never destroying the only copy and resumable after a crash:
 *   1. a verified backup while Odoo serves (the next one only adds what changed), and the
 *      tenant's volume made on the target by its stack, empty, beside the serving one;
 *   2. Odoo stopped (the downtime starts), then a verified backup of what it left: nothing
 *      writes the files any more;
 *   3. that backup's files restored into the volume on the target node, their count checked;
 *   4. the tenant's stack run with the target as its node and the source's copy kept: Odoo runs
 *      on the target and answers through the edge (the downtime ends); the tenant is on the
 *      target from then on;
 *   5. the stack run again without the source: its copy is removed.
 * A crash before 4 leaves the tenant on the source (a retried move stops it again and takes a
 * fresh backup); after it, on the target.
 */
export class NodeMove {
  constructor(private readonly d: NodeMoveDeps) {}

  private now() {
    return this.d.now?.() ?? new Date();
  }

  /** Checks a move can run, then queues it as an operation. */
  async request(tenantId: string, node: string): Promise<Operation> {
    const t = await this.d.tenants.get(tenantId);
    if (!t || t.desiredState === "deleted") throw new NotFoundError(`tenant ${tenantId}`);
    await this.refusal(t, node);
    const op = await this.d.operations.enqueue(t.id, "move", { node });
    await this.d.queues.enqueueTenantOp({ operationId: op.id, tenantId: t.id, kind: "move", node });
    return op;
  }

  /** Throws why `t` cannot move to `node` now. */
  private async refusal(t: Tenant, node: string): Promise<void> {
    const listed = (await this.d.stacks.platformSettings())?.tenantNodes ?? {};
    if (!listed[node])
      throw new ValidationError(
        `node ${node} is not one of the platform's tenant nodes (${Object.keys(listed).sort().join(", ") || "none: swarmTenantNodes is empty"})`,
      );
    if (!t.node)
      throw new ConflictError(
        `tenant ${t.id} is on the platform's volume node, not on a tenant node: it cannot move between nodes`,
      );
    if (t.nodeMove && t.nodeMove.to !== node)
      throw new ConflictError(`tenant ${t.id} is moving to ${t.nodeMove.to}: finish that first`);
    if (t.node === node && !t.nodeMove)
      throw new ConflictError(`tenant ${t.id} is on ${node} already`);
    if (t.observedGeneration === 0 || !t.outputs)
      throw new ConflictError(`tenant ${t.id} was never provisioned: nothing to move`);
    if (t.desiredState === "terminated")
      throw new ConflictError(`tenant ${t.id} is terminated: reactivate it before moving it`);
    if (currentPlacement(t, this.d.catalog) === "dedicated" || t.databaseMove)
      throw new ConflictError(
        `tenant ${t.id} has a dedicated database server: moving it between nodes is not supported yet`,
      );
    if (!t.nodeMove && !(await this.d.nodes()).some((n) => n.hostname === node))
      throw new ConflictError(`node ${node} is not ready or is drained`);
  }

  /** The move job, under the tenant's lock, with progress on the operation's stream. */
  async run(job: TenantOpJob): Promise<void> {
    await this.d.locks.withLock(job.tenantId, async () => {
      const t = await this.d.tenants.get(job.tenantId);
      if (!t) throw new NotFoundError(`tenant ${job.tenantId}`);
      const op = await this.d.operations.start(t.id, "move", t.observedGeneration, job.operationId);
      const onLog = (message: string) =>
        void this.d.progress
          .publish(op.id, { kind: "diagnostic", severity: "info", message })
          .catch(() => undefined);
      try {
        const details = await this.move(t, job.node!, op.id, onLog);
        await this.d.operations.finish(op.id, "succeeded", { details: { ...details } });
        this.d.metrics.operations.inc({ type: "move", result: "succeeded" });
        void this.d.progress.publish(op.id, { kind: "operation-finished", status: "succeeded" });
      } catch (e) {
        const error = `move of ${t.id} from ${t.node} to ${job.node}: ${(e as Error).message}`;
        await this.d.operations.finish(op.id, "failed", { error });
        this.d.metrics.operations.inc({ type: "move", result: "failed" });
        void this.d.progress.publish(op.id, {
          kind: "operation-finished",
          status: "failed",
          error,
        });
        throw new Error(error);
      }
    });
  }

  private async move(
    t: Tenant,
    to: string,
    operationId: string,
    onLog: (m: string) => void,
  ): Promise<NodeMoveResult> {
    await this.refusal(t, to);
    const log = this.d.logger.child({ tenantId: t.id, operationId, to });
    let m: NodeMoveProgress = t.nodeMove ?? {
      from: t.node!,
      to,
      phase: "started",
      operationId,
      startedAt: this.now().toISOString(),
    };
    const save = async (next: Partial<NodeMoveProgress>) => {
      m = { ...m, ...next };
      await this.d.tenants.recordNodeMove(t.id, m);
    };
    await save({ operationId });
    const runtime = runtimeRefOf(t);
    let steps: NodeMoveResult["steps"];

    if (m.phase !== "switched") {
      if (m.phase === "started") {
        onLog(`taking a backup on ${m.from} while the tenant serves`);
        await this.d.backups.take(t, "pre-change", onLog);
        await save({ phase: "prepared" });
      }
      if (m.phase === "prepared") {
        // The target's volume, made by the tenant's stack (its labels, its release on destroy).
        onLog(`making the tenant's volume on ${to}`);
        const spec = stackSpecOf({ ...t, nodeMove: m }, this.d.catalog);
        const prepared = await this.d.stacks.up(spec);
        await this.d.tenants.recordApplied(t.id, {
          state: t.desiredState,
          outputs: prepared.outputs,
          appliedSpec: spec,
        });
      }
      // Stopped again on a resumed move: a reconcile since may have started it on the source.
      const wasRunning = runtime ? await this.d.runtime.stop(runtime) : false;
      await save({
        phase: "stopped",
        ...(wasRunning && !m.stoppedAt ? { stoppedAt: this.now().toISOString() } : {}),
      });
      onLog(`Odoo stopped on ${m.from}; taking the backup the move copies`);
      const mark = stepClock();
      const backup = await this.d.backups.take(t, "pre-change", onLog);
      const backupMs = mark();
      if (!backup?.filestoreSnapshot) throw new ConflictError(`tenant ${t.id} holds no files`);
      const target = await this.d.stacks.dataLocation(
        { ...t, node: to },
        currentPlacement(t, this.d.catalog),
      );
      onLog(`restoring backup ${backup.id}'s files on ${to}`);
      const files = await this.d.engine.restoreFiles(backup.filestoreSnapshot, target!, { onLog });
      if (backup.filestoreEntries !== null && files !== backup.filestoreEntries)
        throw new Error(
          `the restored files on ${to} are ${files}, the backup holds ${backup.filestoreEntries}`,
        );
      const restoreMs = mark();
      await save({ phase: "copied", backupId: backup.id, files });
      // Odoo on the target, the source's copy kept; the tenant is there once it answers.
      const spec = { ...stackSpecOf(t, this.d.catalog), node: to, keptNodes: [m.from] };
      onLog(`starting the tenant on ${to}`);
      const switched = await this.d.stacks.up(spec);
      const switchMs = mark();
      await this.d.tenants.recordApplied(t.id, {
        state: t.desiredState,
        outputs: switched.outputs,
        appliedSpec: spec,
      });
      const url = switched.outputs.url;
      if (spec.state === "active" && typeof url === "string")
        await this.d.edge.answering(url, spec.odooVersion);
      steps = { backup: backupMs, restore: restoreMs, switch: switchMs, answering: mark() };
      m = { ...m, phase: "switched", answeredAt: this.now().toISOString() };
      await this.d.tenants.switchNode(t.id, to, m);
      if (m.stoppedAt)
        this.d.metrics.nodeMoveDowntime.observe(
          (Date.parse(m.answeredAt!) - Date.parse(m.stoppedAt)) / 1000,
        );
    }
    const downtimeMs =
      m.stoppedAt && m.answeredAt ? Date.parse(m.answeredAt) - Date.parse(m.stoppedAt) : null;
    log.info({ from: m.from, downtimeMs }, "the tenant answers on its new node");
    // The source's copy goes only now that the target's answers.
    const now = (await this.d.tenants.get(t.id))!;
    const spec = stackSpecOf({ ...now, nodeMove: null }, this.d.catalog);
    onLog(`removing the copy on ${m.from}`);
    const retired = await this.d.stacks.up(spec);
    await this.d.tenants.recordApplied(t.id, {
      state: t.desiredState,
      outputs: retired.outputs,
      appliedSpec: spec,
    });
    await this.d.tenants.recordNodeMove(t.id, null);
    return {
      from: m.from,
      to,
      backupId: m.backupId!,
      files: m.files!,
      downtimeMs,
      ...(steps ? { steps } : {}),
    };
  }
}

/** Milliseconds since the previous call (the first: since it was made). */
function stepClock(): () => number {
  let last = Date.now();
  return () => {
    const now = Date.now();
    const ms = now - last;
    last = now;
    return ms;
  };
}
