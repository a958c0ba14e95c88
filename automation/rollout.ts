import type { Catalog } from "../catalog";
import type { FleetSpec } from "./fleet";
import type { RolloutJournal, RolloutRecord } from "./rollout-journal";
import { RolloutJournalError } from "./rollout-journal";

/** What a rollout reports as it goes (one JSON line each with `--json`). */
export type RolloutEvent =
  | {
      event: "rollout-started";
      tenants: number;
      remaining: number;
      canary: number;
      resumed: boolean;
    }
  | { event: "batch-started"; batch: number; canary: boolean; tenants: string[] }
  | { event: "tenant-done"; tenantId: string; seconds: number }
  | { event: "tenant-failed"; tenantId: string; stage: "backup" | "up" | "health"; error: string }
  | { event: "tenant-restored"; tenantId: string; backupId: string }
  | {
      event: "rollout-stopped";
      reason: string;
      succeeded: number;
      failed: number;
      remaining: number;
    }
  | { event: "rollout-finished"; succeeded: number; failed: number };

export interface RolloutSteps {
  /** A backup of the tenant before its batch runs (its id); throws to leave the tenant out. */
  backup?: (spec: FleetSpec) => Promise<string | undefined>;
  up: (spec: FleetSpec) => Promise<void>;
  /**
   * After a failed up: the tenant's database and files back as the batch's backup has them (an
   * upgrade that failed half-way leaves them half-migrated).
   */
  restore?: (spec: FleetSpec, backupId: string) => Promise<void>;
  /** After a successful up: throws when the tenant does not answer as it should. */
  health?: (spec: FleetSpec) => Promise<void>;
}

export interface RolloutOptions {
  canary: number;
  batchSize: number;
  /** The rollout stops once this many tenants failed (after the batch in flight). */
  maxFailures: number;
  /** Tenants at once within a batch. */
  concurrency: number;
  journal: RolloutJournal;
  resume: boolean;
  onEvent: (e: RolloutEvent) => void;
}

const firstLine = (e: unknown) => (e as Error).message.split("\n")[0];

/**
 * The order a rollout applies tenants in: smallest plan first (CPUs, then memory), then by id, so
 * the canary risks the least and the same fleet always gives the same order.
 */
export function rolloutOrder(specs: FleetSpec[], catalog: Catalog): string[] {
  const size = (s: FleetSpec) => {
    const p = catalog.plan(s.plan);
    return p ? [p.cpus, p.memoryMb] : [Infinity, Infinity];
  };
  return [...specs]
    .sort((a, b) => {
      const [ca, ma] = size(a);
      const [cb, mb] = size(b);
      return ca - cb || ma - mb || a.tenantId.localeCompare(b.tenantId);
    })
    .map((s) => s.tenantId);
}

/** Batches of a rollout's order: the canary first, then `batchSize` at a time. */
export function rolloutBatches(order: string[], canary: number, batchSize: number): string[][] {
  const batches = canary > 0 ? [order.slice(0, canary)] : [];
  for (let i = Math.max(canary, 0); i < order.length; i += batchSize)
    batches.push(order.slice(i, i + batchSize));
  return batches.filter((b) => b.length > 0);
}

/**
 * Applies a change to the fleet a batch at a time: a canary first (any failure stops the
 * rollout), then batches, each preceded by a backup, stopping after `maxFailures` failures.
 * Its progress is journaled after every tenant, so `resume` continues where it stopped.
 * Returns true when every tenant succeeded.
 */
export async function rollout(
  specs: FleetSpec[],
  order: string[],
  steps: RolloutSteps,
  o: RolloutOptions,
): Promise<boolean> {
  const byId = new Map(specs.map((s) => [s.tenantId, s]));
  const previous = o.journal.read();
  let record: RolloutRecord;
  if (o.resume) {
    if (!previous) throw new RolloutJournalError(`no rollout to resume in ${o.journal.file}`);
    if (previous.finished)
      throw new RolloutJournalError("the last rollout finished: nothing to resume");
    const missing = previous.order.filter((id) => !byId.has(id));
    if (missing.length)
      throw new RolloutJournalError(
        `tenants of the rollout have no spec any more: ${missing.join(", ")}`,
      );
    // Failed tenants are tried again; the failure budget starts afresh.
    const done = Object.fromEntries(Object.entries(previous.done).filter(([, r]) => r.ok));
    record = { ...previous, done, stopped: null };
  } else {
    if (previous && !previous.finished)
      throw new RolloutJournalError(
        `a rollout is unfinished (${o.journal.file}): continue it with --resume, or remove the file to start over`,
      );
    record = {
      order,
      canary: o.canary,
      batchSize: o.batchSize,
      maxFailures: o.maxFailures,
      done: {},
      stopped: null,
      finished: false,
    };
  }
  o.journal.write(record);
  const remainingIds = () => record.order.filter((id) => !record.done[id]);
  const failures = () => Object.values(record.done).filter((r) => !r.ok).length;
  const successes = () => Object.values(record.done).filter((r) => r.ok).length;
  o.onEvent({
    event: "rollout-started",
    tenants: record.order.length,
    remaining: remainingIds().length,
    canary: record.canary,
    resumed: o.resume,
  });

  const finishTenant = (id: string, result: RolloutRecord["done"][string]) => {
    record.done[id] = result;
    o.journal.write(record);
  };
  const failTenant = (id: string, stage: "backup" | "up" | "health", error: string) => {
    finishTenant(id, { ok: false, stage, error });
    o.onEvent({ event: "tenant-failed", tenantId: id, stage, error });
  };
  const backups = new Map<string, string>();
  /** The up; on failure, the backup taken before it is restored where there is one. */
  const applied = async (spec: FleetSpec) => {
    const id = spec.tenantId;
    try {
      await steps.up(spec);
      return true;
    } catch (e) {
      let error = firstLine(e);
      const backupId = backups.get(id);
      if (steps.restore && backupId)
        try {
          await steps.restore(spec, backupId);
          o.onEvent({ event: "tenant-restored", tenantId: id, backupId });
          error += `; backup ${backupId} restored`;
        } catch (r) {
          error += `; restoring backup ${backupId} failed: ${firstLine(r)}`;
        }
      failTenant(id, "up", error);
      return false;
    }
  };
  const runTenant = async (id: string) => {
    const spec = byId.get(id)!;
    const started = performance.now();
    if (!(await applied(spec))) return;
    try {
      await steps.health?.(spec);
    } catch (e) {
      return failTenant(id, "health", firstLine(e));
    }
    finishTenant(id, { ok: true });
    o.onEvent({
      event: "tenant-done",
      tenantId: id,
      seconds: (performance.now() - started) / 1000,
    });
  };

  const batches = rolloutBatches(record.order, record.canary, record.batchSize);
  for (const [index, batch] of batches.entries()) {
    const todo = batch.filter((id) => !record.done[id]);
    if (!todo.length) continue;
    const canary = index === 0 && record.canary > 0;
    o.onEvent({ event: "batch-started", batch: index + 1, canary, tenants: todo });
    // The batch's backups first: a tenant whose backup failed is not changed.
    const ready: string[] = [];
    for (const id of todo) {
      if (!steps.backup) ready.push(id);
      else
        try {
          const backupId = await steps.backup(byId.get(id)!);
          if (backupId) backups.set(id, backupId);
          ready.push(id);
        } catch (e) {
          failTenant(id, "backup", firstLine(e));
        }
    }
    const queue = [...ready];
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(o.concurrency, queue.length)) }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) await runTenant(id);
      }),
    );
    const stopReason =
      canary && batch.some((id) => record.done[id] && !record.done[id].ok)
        ? "a canary tenant failed"
        : failures() >= record.maxFailures
          ? `${failures()} tenants failed (--max-failures ${record.maxFailures})`
          : null;
    if (stopReason && remainingIds().length) {
      record.stopped = stopReason;
      o.journal.write(record);
      o.onEvent({
        event: "rollout-stopped",
        reason: stopReason,
        succeeded: successes(),
        failed: failures(),
        remaining: remainingIds().length,
      });
      return false;
    }
  }
  record.finished = true;
  o.journal.write(record);
  o.onEvent({ event: "rollout-finished", succeeded: successes(), failed: failures() });
  return failures() === 0;
}
