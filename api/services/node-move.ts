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
import type { BackupRecord } from "../store/backup-store";
import type { BackupService } from "./backup-service";
import { currentPlacement, stackSpecOf } from "./change-plan";
import type { EdgeProbe } from "./edge-probe";
import type { NodeResources, NodeState } from "./node-capacity";
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
  /** Every Swarm node's state: whether a move's source is down. */
  nodeStates: () => Promise<Map<string, NodeState>>;
  now?: () => Date;
}

/** What a move did, as its operation's details. */
export interface NodeMoveResult {
  from: string;
  to: string;
  backupId: string;
  files: number;
  /** Odoo stopped -> answering on the target; null when it was not running (its node lost). */
  downtimeMs: number | null;
  /** Restored from the last backup (its node lost): the files written after it are not there. */
  fromBackup?: { takenAt: string };
  /** Where the downtime went (ms): the backup, the restore, the switch's run, until it answered. */
  steps?: { backup: number; restore: number; switch: number; answering: number };
}

/**
 * Moves a tenant between the nodes of a Swarm (its local filestore volume; the database stays on
 * the shared server), never destroying the only copy and resumable after a crash:
 *   1. a verified backup while Odoo serves (the next one only adds what changed), the tenant's
 *      volume made on the target by its stack beside the serving one, and that backup's files
 *      restored into it (all of this while the tenant serves);
 *   2. Odoo stopped (the downtime starts), then a verified backup of what it left: nothing
 *      writes the files any more;
 *   3. what changed between the two backups brought to the target, its file count checked;
 *   4. the tenant's stack run with the target as its node and the source's copy kept: Odoo runs
 *      on the target and answers through the edge (the downtime ends); the tenant is on the
 *      target from then on;
 *   5. the stack run again without the source: its copy is removed.
 * A crash before 4 leaves the tenant on the source (a retried move stops it again and takes a
 * fresh backup); after it, on the target.
 *
 * A source node lost for good (down, or gone from the Swarm) holds the only live copy of the
 * files, out of reach: an operator may then restore the tenant onto another node from its last
 * verified backup (`fromBackup`, never chosen for them: the files written since are lost; the
 * database, on the shared server, is not). The stack forgets what it held on the lost node, makes
 * the volume on the target with Odoo stopped, the backup's files are restored there, and the
 * stack runs it there.
 */
export class NodeMove {
  constructor(private readonly d: NodeMoveDeps) {}

  private now() {
    return this.d.now?.() ?? new Date();
  }

  /** Checks a move can run, then queues it as an operation. */
  async request(
    tenantId: string,
    node: string,
    opts: { fromBackup?: boolean } = {},
  ): Promise<Operation> {
    const t = await this.d.tenants.get(tenantId);
    if (!t || t.desiredState === "deleted") throw new NotFoundError(`tenant ${tenantId}`);
    const fromBackup = !!opts.fromBackup;
    await this.refusal(t, node, fromBackup);
    const op = await this.d.operations.enqueue(t.id, "move", {
      node,
      ...(fromBackup ? { fromBackup } : {}),
    });
    await this.d.queues.enqueueTenantOp({
      operationId: op.id,
      tenantId: t.id,
      kind: "move",
      node,
      ...(fromBackup ? { fromBackup } : {}),
    });
    return op;
  }

  /** Throws why `t` cannot move to `node` now. */
  private async refusal(t: Tenant, node: string, fromBackup: boolean): Promise<void> {
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
    if (t.nodeMove && !!t.nodeMove.fromBackup !== fromBackup)
      throw new ConflictError(
        `tenant ${t.id} is moving to ${t.nodeMove.to} ${t.nodeMove.fromBackup ? "from its last backup" : "with a copy of its files"}: finish that first`,
      );
    if (t.nodeMove) return;
    const source = (await this.d.nodeStates()).get(t.node);
    const lost = !source || source.state !== "ready";
    if (fromBackup && !lost)
      throw new ConflictError(
        `tenant ${t.id}'s node ${t.node} is ready: move it without fromBackup, which copies its files as they are now`,
      );
    const backup = fromBackup || lost ? await this.lastBackup(t.id) : undefined;
    const since = backup ? `backup ${backup.id} of ${backup.startedAt}` : "none verified";
    if (lost && !fromBackup)
      throw new ConflictError(
        `tenant ${t.id}'s node ${t.node} is ${source ? source.state : "not in the Swarm any more"}: its files cannot be copied from there. Wait for the node, or restore the tenant onto ${node} from its last backup (fromBackup; ${since}): the files written since are lost`,
      );
    if (fromBackup && !backup)
      throw new ConflictError(
        `tenant ${t.id} has no verified backup holding its files: it can only come back with its node ${t.node}`,
      );
  }

  /** The newest verified backup holding the tenant's files. */
  private async lastBackup(tenantId: string): Promise<BackupRecord | undefined> {
    return (await this.d.backups.list(tenantId)).find(
      (b) => b.status === "succeeded" && b.filestoreSnapshot && !b.forgottenAt,
    );
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
        const details =
          (t.nodeMove?.fromBackup ?? job.fromBackup)
            ? await this.restoreOnto(t, job.node!, op.id, onLog)
            : await this.move(t, job.node!, op.id, onLog);
        await this.d.operations.finish(op.id, "succeeded", { details: { ...details } });
        this.d.metrics.operations.inc({ type: "move", result: "succeeded" });
        void this.d.progress.publish(op.id, { kind: "operation-finished", status: "succeeded" });
      } catch (e) {
        const from = t.nodeMove?.from ?? t.node;
        const error = `move of ${t.id} from ${from} to ${job.node}: ${(e as Error).message}`;
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

  private async restoreOnto(
    t: Tenant,
    to: string,
    operationId: string,
    onLog: (m: string) => void,
  ): Promise<NodeMoveResult> {
    await this.refusal(t, to, true);
    return restoreOntoNode(this.d, t, to, operationId, onLog);
  }

  private async move(
    t: Tenant,
    to: string,
    operationId: string,
    onLog: (m: string) => void,
  ): Promise<NodeMoveResult> {
    await this.refusal(t, to, false);
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
      const target = () =>
        this.d.stacks.dataLocation({ ...t, node: to }, currentPlacement(t, this.d.catalog));
      if (m.phase === "started") {
        onLog(`taking a backup on ${m.from} while the tenant serves`);
        const warm = await this.d.backups.take(t, "pre-change", onLog);
        await save({
          phase: "prepared",
          ...(warm?.filestoreSnapshot ? { heldSnapshot: warm.filestoreSnapshot } : {}),
        });
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
        // The files copied while the tenant serves: once it is stopped, only what changed since.
        if (m.heldSnapshot) {
          onLog(`copying its files to ${to} while it serves`);
          await this.d.engine.restoreFiles(m.heldSnapshot, (await target())!, { onLog });
        }
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
      onLog(`bringing backup ${backup.id}'s files to ${to}`);
      // Only what changed since the snapshot the target holds (a resumed move: since its last).
      const location = (await target())!;
      const files = m.heldSnapshot
        ? await this.d.engine.syncFiles(m.heldSnapshot, backup.filestoreSnapshot, location, {
            onLog,
          })
        : await this.d.engine.restoreFiles(backup.filestoreSnapshot, location, { onLog });
      if (backup.filestoreEntries !== null && files !== backup.filestoreEntries)
        throw new Error(
          `the restored files on ${to} are ${files}, the backup holds ${backup.filestoreEntries}`,
        );
      const restoreMs = mark();
      await save({
        phase: "copied",
        backupId: backup.id,
        files,
        heldSnapshot: backup.filestoreSnapshot,
      });
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

/** The steps of a restore onto another node from the last backup (see NodeMove). */
export async function restoreOntoNode(
  d: NodeMoveDeps,
  t: Tenant,
  to: string,
  operationId: string,
  onLog: (m: string) => void,
): Promise<NodeMoveResult> {
  const now = () => (d.now?.() ?? new Date()).toISOString();
  let m: NodeMoveProgress = t.nodeMove ?? {
    from: t.node!,
    to,
    phase: "started",
    operationId,
    startedAt: now(),
    fromBackup: true,
  };
  const backups = await d.backups.list(t.id);
  if (m.phase === "started") {
    const backup = backups.find(
      (b) => b.status === "succeeded" && b.filestoreSnapshot && !b.forgottenAt,
    );
    if (!backup) throw new ConflictError(`tenant ${t.id} has no verified backup holding its files`);
    const forgotten = await d.stacks.forgetNode(t.id, m.from);
    onLog(`forgot ${forgotten.length} resources on the lost node ${m.from}`);
    // On the target from now on: every run of its stack makes its volume there, none reaches
    // the lost node again.
    m = { ...m, operationId, phase: "prepared", backupId: backup.id };
    await d.tenants.switchNode(t.id, to, m);
  } else {
    m = { ...m, operationId };
    await d.tenants.recordNodeMove(t.id, m);
  }
  const backup = backups.find((b) => b.id === m.backupId);
  if (!backup?.filestoreSnapshot) throw new NotFoundError(`backup ${m.backupId} of ${t.id}`);
  const current = (await d.tenants.get(t.id))!;
  if (m.phase === "prepared") {
    // The volume on the target, with Odoo stopped: nothing serves an empty filestore.
    const runtime = runtimeRefOf(current);
    if (runtime) await d.runtime.stop(runtime);
    const empty = { ...stackSpecOf(current, d.catalog), state: "suspended" as const };
    onLog(`making the tenant's volume on ${to}, Odoo stopped`);
    const made = await d.stacks.up(empty);
    await d.tenants.recordApplied(t.id, {
      state: current.desiredState,
      outputs: made.outputs,
      appliedSpec: empty,
    });
    const target = await d.stacks.dataLocation(current, currentPlacement(current, d.catalog));
    onLog(`restoring backup ${backup.id}'s files (${backup.startedAt}) on ${to}`);
    const files = await d.engine.restoreFiles(backup.filestoreSnapshot, target!, { onLog });
    if (backup.filestoreEntries !== null && files !== backup.filestoreEntries)
      throw new Error(
        `the restored files on ${to} are ${files}, the backup holds ${backup.filestoreEntries}`,
      );
    m = { ...m, phase: "copied", files };
    await d.tenants.recordNodeMove(t.id, m);
  }
  const spec = stackSpecOf({ ...current, nodeMove: null }, d.catalog);
  onLog(`starting the tenant on ${to}`);
  const started = await d.stacks.up(spec);
  await d.tenants.recordApplied(t.id, {
    state: current.desiredState,
    outputs: started.outputs,
    appliedSpec: spec,
  });
  const url = started.outputs.url;
  if (spec.state === "active" && typeof url === "string")
    await d.edge.answering(url, spec.odooVersion);
  await d.tenants.recordNodeMove(t.id, null);
  d.logger.info(
    { tenantId: t.id, operationId, from: m.from, to, backupId: backup.id },
    "the tenant runs on its new node from its last backup",
  );
  return {
    from: m.from,
    to,
    backupId: backup.id,
    files: m.files!,
    downtimeMs: null,
    fromBackup: { takenAt: backup.startedAt },
  };
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
