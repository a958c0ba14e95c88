import type { ProgressEvent, TenantStacks, UpOutcome } from "../../automation";
import type { TenantBackups } from "../../backup/tenant-backups";
import type { DatabasePlacement } from "../../components/tenant/database-placement";
import type { Logger } from "../common/logger";
import type { TenantStore } from "../store/tenant-store";
import type { DatabaseMoveProgress, Tenant } from "../domain/tenant";
import type { BackupService } from "./backup-service";
import { moveSpecs, type StackSpec } from "./change-plan";
import { runtimeRefOf, type TenantRuntime } from "./tenant-runtime";

const DAY_MS = 86_400_000;

/** The target database was written after the copy: overwriting it could lose the only copy. */
export class MoveConflictError extends Error {
  override readonly name = "MoveConflictError";
}

export interface MoveContext {
  operationId: string;
  log: Logger;
  onLog: (message: string) => void;
  onProgress: (e: ProgressEvent) => void;
}

/** What a move did: the switch's run, when Odoo stopped (the downtime began), what was copied. */
export interface MoveOutcome extends UpOutcome {
  spec: StackSpec;
  from: DatabasePlacement;
  to: DatabasePlacement;
  /** ms since the epoch; undefined when Odoo was not running (a stopped tenant has no downtime). */
  stoppedAt?: number;
  backupId?: string;
  copied: { tables: number; rows: number };
}

/**
 * Moves a tenant's database to where its plan puts it (shared <-> dedicated), keeping every byte:
 *   1. prepare: the target database is created next to the serving one (both servers running),
 *      while Odoo keeps serving; a verified backup of the source is taken;
 *   2. stop Odoo (the downtime starts: nothing writes the source any more);
 *   3. copy the database to the target, checked table by table, then swapped in there;
 *   4. switch: the stack serves from the target; the source is kept (stopped, if a server of its
 *      own) until its retention ends; recorded at once as where the data is.
 * Each step is recorded on the tenant, so a crash resumes the move; before the switch the source
 * is the data, and a failed switch puts Odoo back on it. A copy never overwrites a target that was
 * written after an earlier copy of the same move.
 */
export class DatabaseMove {
  constructor(
    private readonly d: {
      tenants: TenantStore;
      stacks: TenantStacks;
      engine: TenantBackups;
      backups: BackupService;
      runtime: TenantRuntime;
      /** The lifecycle clock (until when the source is kept); downtime is measured on the real one. */
      now: () => Date;
      /** Days the source is kept after the move. */
      retentionDays: (plan: string) => number;
    },
  ) {}

  async run(
    t: Tenant,
    final: StackSpec,
    move: { from: DatabasePlacement; to: DatabasePlacement },
    ctx: MoveContext,
  ): Promise<MoveOutcome> {
    const { from, to } = move;
    const { prepared, switched } = moveSpecs(final, move);
    const resumed = t.databaseMove?.from === from && t.databaseMove.to === to;
    let progress: DatabaseMoveProgress = resumed
      ? t.databaseMove!
      : { from, to, phase: "prepared", operationId: ctx.operationId, startedAt: iso(new Date()) };
    ctx.onLog(
      resumed
        ? `resuming the database move ${from} -> ${to} (it had reached: ${progress.phase})`
        : `moving the database ${from} -> ${to}: preparing the ${to} database`,
    );
    // The target is declared before it is created: a crash now leaves it kept, never dropped.
    await this.d.tenants.recordMove(t.id, progress);
    const ready = await this.d.stacks.up(prepared, { onProgress: ctx.onProgress });
    await this.d.tenants.recordApplied(t.id, {
      state: t.observedState ?? "active",
      outputs: ready.outputs,
      appliedSpec: prepared,
    });

    // The rollback point: the source as it is, read back from the repository.
    const backup = await this.d.backups.take(t, "pre-change", ctx.onLog);
    ctx.onLog(`pre-move backup ${backup?.id ?? "none (no tenant data)"} verified`);

    const runtime = runtimeRefOf(t);
    const meantToRun = final.state === "active";
    const source = await this.d.stacks.dataLocation(t, from);
    const target = await this.d.stacks.dataLocation(t, to);
    let copied = { tables: 0, rows: 0 };
    let stoppedAt = progress.stoppedAt;
    if (!source || !target) ctx.onLog("the stack holds no tenant data: nothing to copy");
    else {
      const wasRunning = runtime ? await this.d.runtime.stop(runtime) : false;
      stoppedAt ??= wasRunning ? iso(new Date()) : undefined;
      progress = { ...progress, phase: "stopped", ...(stoppedAt ? { stoppedAt } : {}) };
      await this.d.tenants.recordMove(t.id, progress);
      ctx.onLog(`Odoo ${wasRunning ? "stopped" : "was not running"}; copying the database`);
      try {
        if (progress.copiedFingerprint) {
          const now = await this.d.engine.fingerprint(target);
          if (now !== progress.copiedFingerprint)
            throw new MoveConflictError(
              `the ${to} database of ${t.id} was written after this move copied it there: it is not ` +
                `overwritten. Compare it with the ${from} one and resolve by hand (restore the ` +
                `pre-move backup ${backup?.id ?? ""} into the tenant, or keep ${to})`,
            );
        }
        const copy = await this.d.engine.copyDatabase(source, target, ctx.operationId, {
          onLog: ctx.onLog,
        });
        copied = { tables: copy.tables, rows: copy.rows };
        progress = { ...progress, phase: "copied", copiedFingerprint: copy.fingerprint };
        await this.d.tenants.recordMove(t.id, progress);
        ctx.onLog(`copied and verified: ${copy.tables} tables, ${copy.rows} rows; switching`);
      } catch (e) {
        if (runtime && (wasRunning || meantToRun)) await this.d.runtime.start(runtime);
        throw e;
      }
    }

    let result: UpOutcome;
    try {
      result = await this.d.stacks.up(switched, { onProgress: ctx.onProgress });
    } catch (e) {
      // Until the switch succeeds the source is the data: Odoo goes back to it.
      ctx.log.warn({ error: (e as Error).message }, "database move: switch failed, back on source");
      await this.d.stacks
        .up(prepared, { onProgress: ctx.onProgress })
        .then(() => (runtime && meantToRun ? this.d.runtime.start(runtime) : undefined))
        .catch((err) =>
          ctx.log.warn({ error: (err as Error).message }, "database move: rollback failed"),
        );
      await this.d.tenants.recordMove(t.id, { ...progress, phase: "prepared" });
      throw new Error(
        `the switch to the ${to} database failed; Odoo serves from the ${from} one again: ${(e as Error).message}`,
      );
    }
    const keptUntil = new Date(this.d.now().getTime() + this.d.retentionDays(final.plan) * DAY_MS);
    await this.d.tenants.recordApplied(t.id, {
      state: t.observedState ?? "active",
      outputs: result.outputs,
      appliedSpec: switched,
      databasePlacement: to,
      retiredDatabases: [
        ...t.retiredDatabases.filter((d) => d.placement !== to && d.placement !== from),
        { placement: from, keptUntil: iso(keptUntil) },
      ],
    });
    ctx.log.info({ from, to, ...copied, keptUntil }, "database moved");
    return {
      ...result,
      spec: switched,
      from,
      to,
      stoppedAt: stoppedAt ? Date.parse(stoppedAt) : undefined,
      backupId: backup?.id,
      copied,
    };
  }
}

const iso = (d: Date) => d.toISOString();
