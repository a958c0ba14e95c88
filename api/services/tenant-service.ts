import { FINGERPRINT_OUTPUT } from "../../automation/inputs-fingerprint";
import type { DriftService } from "./drift-service";
import type { Catalog } from "../../catalog";
import { parseTenantSpec, InvalidTenantSpecError } from "../../stacks/tenant/tenant-spec";
import { ConflictError, NotFoundError, ValidationError } from "../common/errors";
import type { Queues } from "../jobs/queues";
import type { Operation, OperationStore } from "../store/operation-store";
import { effectiveState } from "../killbill/binding";
import type { BillingProblem, BillingProblemStore } from "../store/billing-problem-store";
import type { TenantPageQuery, TenantStore } from "../store/tenant-store";
import type { OverLimit, UsageStore } from "../store/usage-store";
import type { DesiredState, SuspendReason, Tenant } from "../domain/tenant";
import type { BillingSync } from "./billing-sync";
import type { TenantAdmission } from "./tenant-admission";
import type { BillingQuarantineStore } from "../store/billing-quarantine-store";
import { appliedPlan, stackSpecOf } from "./change-plan";
import type { PreviewOutcome, TenantStacks } from "../../automation";
import type { Metrics } from "../common/metrics";
import type { BillingStatus } from "../domain/tenant";
import type { BackupService } from "./backup-service";
import type { ExportService } from "./export-service";
import type { NodeMove } from "./node-move";
import type { NodeState } from "./node-capacity";
import { nodeProblem, type NodeDrain } from "./node-drain";
import { INSTANCE_STATUSES, instanceStatus, type InstanceStatus } from "./instance-status";
import { unmaintainedReason } from "../../components/tenant/odoo-versions";
import type { RuntimeObservation, TenantRuntime } from "./tenant-runtime";

/** A billing problem, or billing work set aside after a failure (with its retry). */
export type BillingIssue =
  | ({ kind: "problem" } & BillingProblem)
  | {
      kind: "quarantined";
      unit: "event" | "subscription" | "account";
      subscriptionId: string | null;
      accountId: string | null;
      tenantId: string | null;
      eventId: string | null;
      problem: string;
      cause: string | null;
      attempts: number;
      nextAttemptAt: string;
      firstSeen: string;
      lastSeen: string;
    };

/** A tenant as the admin API shows it. */
export interface TenantView {
  id: string;
  customerId: string;
  plan: string;
  odooVersion: string;
  adminEmail: string | null;
  desiredState: DesiredState;
  /** An operator's suspension: billing cannot lift it, only POST …/resume. */
  operatorHold: boolean;
  suspendReason: SuspendReason | null;
  /** The Kill Bill subscription the tenant follows, and what it says. */
  billing: {
    subscriptionId: string;
    accountId: string | null;
    state: DesiredState | null;
    status: BillingStatus | null;
    /** A requested cancellation's last day. */
    endsOn: string | null;
  } | null;
  observedState: DesiredState | null;
  /** What the operator and customer see, from the runtime the engine reports now. */
  status: InstanceStatus;
  /** A terminated tenant's stopped instance and data are kept until then. */
  dataKeptUntil: string | null;
  /** Asleep since then (idle; its next request wakes it), and when it was last in use. */
  sleepingSince: string | null;
  /** Caps of its plan it is at or past (docs/usage.md), by unit. */
  overLimit: { unit: string; amount: number; cap: number; since: string }[];
  lastActivityAt: string | null;
  /** The desired state is applied and the tenant answers through the edge (when it runs). */
  converged: boolean;
  /** While not converged: what is still to be carried out, and why it has not been yet. */
  pending: { changes: string[]; error: string | null } | null;
  /** Where the database is, and a move under way (null when none). */
  database: {
    placement: string | null;
    move: { from: string; to: string; phase: string; startedAt: string } | null;
    kept: { placement: string; keptUntil: string }[];
  };
  /** Swarm on several nodes: the node holding its local volumes (null: the platform's). */
  node: string | null;
  /** Why its node does not run it as it should (down, drained, paused, gone); null when it does. */
  nodeProblem: string | null;
  /** A move between nodes under way. */
  nodeMove: { from: string; to: string; phase: string } | null;
  desiredGeneration: number;
  observedGeneration: number;
  url: string | null;
  /** The fingerprint of the inputs the stack was last applied with (null before the first run). */
  inputsFingerprint: string | null;
  /** The latest drift check (null before the first). */
  drift: Tenant["drift"];
  lastError: string | null;
  source: Tenant["source"];
  lastOperation: {
    id: string;
    type: string;
    status: string;
    startedAt: string;
    finishedAt: string | null;
  } | null;
}

/** Admin-side changes to tenants: each sets desired state and enqueues a reconcile. */
export class TenantService {
  constructor(
    private readonly d: {
      drift: DriftService;
      tenants: TenantStore;
      usage: Pick<UsageStore, "overLimitsOf">;
      admission: TenantAdmission;
      quarantine: BillingQuarantineStore;
      operations: OperationStore;
      queues: Queues;
      catalog: Catalog;
      stacks: TenantStacks;
      billing: BillingSync;
      problems: BillingProblemStore;
      backups: BackupService;
      exports: ExportService;
      moves: NodeMove;
      /** Swarm nodes' states by hostname (tenants pinned to a node that is down are shown so). */
      nodeStates?: () => Promise<Map<string, NodeState>>;
      drain: NodeDrain;
      runtime: TenantRuntime;
      metrics: Metrics;
    },
  ) {
    d.metrics.instanceSource.count = async () => {
      const counts: Record<string, number> = Object.fromEntries(
        INSTANCE_STATUSES.map((s) => [s, 0]),
      );
      const [tenants, seen] = await Promise.all([d.tenants.list(), this.observed()]);
      for (const t of tenants) counts[instanceStatus(t, runtimeOf(t, seen))]++;
      return counts;
    };
    d.metrics.billingStatusSource.count = () => d.tenants.countByBillingStatus();
  }

  get backups(): BackupService {
    return this.d.backups;
  }

  get exports(): ExportService {
    return this.d.exports;
  }

  get moves(): NodeMove {
    return this.d.moves;
  }

  get drain(): NodeDrain {
    return this.d.drain;
  }

  /** The engine's view of every runtime; none (status from the last operation) if it cannot be read. */
  private observed(): Promise<Map<string, RuntimeObservation> | undefined> {
    return this.d.runtime.observeAllRecent().catch(() => undefined);
  }

  /**
   * What operators must see in billing: subscriptions that bill a customer without an instance of
   * them (`problem`), and billing work that failed and waits for its retry (`quarantined`: an
   * event, a subscription, an account), each with its reason.
   */
  async billingProblems(): Promise<BillingIssue[]> {
    const [problems, quarantined] = await Promise.all([
      this.d.problems.open(),
      this.d.quarantine.open(),
    ]);
    return [
      ...problems.map((p) => ({ kind: "problem" as const, ...p })),
      ...quarantined.map((q) => ({
        kind: "quarantined" as const,
        unit: q.kind,
        subscriptionId: q.kind === "subscription" ? q.subjectId : null,
        accountId: q.accountId,
        tenantId: q.tenantId,
        eventId: q.kind === "event" ? q.subjectId : null,
        problem: q.reason,
        cause: q.cause,
        attempts: q.attempts,
        nextAttemptAt: q.nextAttemptAt,
        firstSeen: q.firstFailed,
        lastSeen: q.lastFailed,
      })),
    ];
  }

  /** The tenant's billing status transitions, oldest first, with their causes. */
  async billingTransitions(id: string) {
    await this.get(id);
    return this.d.tenants.billingTransitions(id);
  }

  /**
   * Reads every Kill Bill account again now (it also runs at start and periodically); what it
   * could not read is in the report (and quarantined), never a failure of the whole.
   */
  resyncBilling() {
    return this.d.billing.resync();
  }

  async view(t: Tenant): Promise<TenantView> {
    const [op, seen, nodes, over] = await Promise.all([
      this.d.operations.latest(t.id),
      this.observed(),
      this.nodeStates([t]),
      this.d.usage.overLimitsOf([t.id]),
    ]);
    return viewOf(t, op, seen, nodes, over.get(t.id) ?? []);
  }

  /** The Swarm's node states, read only when one of `tenants` has a node of its own. */
  private async nodeStates(tenants: Pick<Tenant, "node">[]): Promise<Map<string, NodeState>> {
    if (!this.d.nodeStates || !tenants.some((t) => t.node)) return new Map();
    return this.d.nodeStates().catch(() => new Map());
  }

  /** One page of tenants with their last operations: two queries whatever the fleet's size. */
  async list(q: TenantPageQuery): Promise<{ tenants: TenantView[]; nextCursor: string | null }> {
    const [{ tenants, more }, seen] = await Promise.all([this.d.tenants.page(q), this.observed()]);
    const ids = tenants.map((t) => t.id);
    const [latest, nodes, over] = await Promise.all([
      this.d.operations.latestFor(ids),
      this.nodeStates(tenants),
      this.d.usage.overLimitsOf(ids),
    ]);
    return {
      tenants: tenants.map((t) => viewOf(t, latest.get(t.id), seen, nodes, over.get(t.id) ?? [])),
      nextCursor: more ? encodeCursor(tenants[tenants.length - 1].id) : null,
    };
  }

  async get(id: string): Promise<Tenant> {
    const t = await this.d.tenants.get(id);
    if (!t) throw new NotFoundError(`tenant ${id}`);
    return t;
  }

  /** Creates a tenant directly (e.g. a trial without billing). */
  async create(input: unknown): Promise<Tenant> {
    const spec = this.validate(input);
    if (spec.customDomains?.length)
      throw new ValidationError(
        "custom domains are attached one by one once verified: POST /admin/tenants/{id}/domains",
      );
    const unmaintained = unmaintainedReason(spec.odooVersion);
    if (unmaintained) throw new ValidationError(unmaintained);
    const refused = await this.d.admission.refusal({ tenantId: spec.tenantId, plan: spec.plan });
    if (refused) throw new ConflictError(refused);
    const { tenantId, customerId, state, ...rest } = spec;
    if (state === "sleeping") throw new ValidationError("a tenant is created active or suspended");
    const tenant = await this.d.tenants.insertNew({
      id: tenantId,
      customerId,
      spec: rest,
      desiredState: state,
      source: "admin",
    });
    if (!tenant) throw new ConflictError(`tenant ${tenantId} already exists`);
    await this.d.queues.requestReconcile(tenant.id);
    return tenant;
  }

  async changePlan(id: string, plan: string) {
    if (!this.d.catalog.plan(plan))
      throw new ValidationError(`unknown plan "${plan}"`, { known: this.d.catalog.planIds });
    const refused = await this.d.admission.refusal({ tenantId: id, plan });
    if (refused) throw new ConflictError(refused);
    return this.update(id, (t) => ({ spec: { ...t.spec, plan } }));
  }

  /** The customer's own domains its routes serve (verified ones: api/services/tenant-domains.ts). */
  setCustomDomains(id: string, customDomains: string[]) {
    return this.update(id, (t) => ({ spec: { ...t.spec, customDomains } }));
  }

  /** An operator's hold: the tenant stays suspended whatever billing says until resumed here. */
  suspend(id: string) {
    return this.update(id, () => ({ desiredState: "suspended" }), {
      operatorHold: true,
      suspendReason: "operator",
    });
  }

  /** Lifts the operator's hold: the tenant goes back to what billing says (active without billing). */
  resume(id: string) {
    return this.update(
      id,
      (t) => ({ desiredState: effectiveState(t.billingState ?? "active", false) }),
      { operatorHold: false, suspendReason: null },
    );
  }

  /**
   * Deletes a tenant and its data. Refused while Kill Bill still bills it (its subscription is live):
   * the customer would go on paying for nothing, and the next event would create an empty instance.
   * Cancel the subscription in Kill Bill first.
   */
  async remove(id: string, opts: { skipBackup?: boolean } = {}) {
    const t = await this.get(id);
    if (t.billingState && t.billingState !== "terminated" && t.billingState !== "deleted")
      throw new ConflictError(
        `tenant ${id} is billed by Kill Bill subscription ${t.killbillSubscriptionId} (${t.billingState}): cancel it in Kill Bill first`,
      );
    return this.update(
      id,
      () => ({ desiredState: "deleted" }),
      { skipFinalBackup: opts.skipBackup ?? false },
      true,
    );
  }

  /** Another try, also for a generation the workers gave up on; billing is read again first. */
  async reconcile(id: string): Promise<Tenant> {
    let t = await this.get(id);
    if (t.killbillSubscriptionId) {
      await this.d.billing.syncSubscription(t.killbillSubscriptionId);
      t = await this.get(id);
    }
    await this.d.tenants.clearGaveUp(id);
    await this.d.queues.requestReconcile(id);
    return t;
  }

  /** A drift check of the tenant's stack, queued now (the result shows in the tenant's view). */
  async checkDrift(id: string): Promise<Tenant> {
    const t = await this.get(id);
    if (!t.observedState || t.observedState === "deleted")
      throw new ConflictError(`tenant ${id} has no stack to check`);
    await this.d.drift.requestCheck(id);
    return t;
  }

  async preview(id: string): Promise<PreviewOutcome> {
    const t = await this.get(id);
    if (t.desiredState === "deleted") throw new ConflictError(`tenant ${id} is being deleted`);
    return this.d.stacks.preview(stackSpecOf(t, this.d.catalog));
  }

  private async update(
    id: string,
    change: (t: Tenant) => Partial<Pick<Tenant, "spec" | "desiredState">>,
    operator: {
      operatorHold?: boolean;
      suspendReason?: SuspendReason | null;
      skipFinalBackup?: boolean;
    } = {},
    allowDeleted = false,
  ): Promise<Tenant> {
    const t = await this.get(id);
    if (t.desiredState === "deleted" && !allowDeleted)
      throw new ConflictError(`tenant ${id} is deleted`);
    const next = { spec: t.spec, desiredState: t.desiredState, ...change(t) };
    this.validate({
      tenantId: t.id,
      customerId: t.customerId,
      ...next.spec,
      state: next.desiredState === "active" ? "active" : "suspended",
    });
    const { tenant, changed } = await this.d.tenants.setDesired({
      id: t.id,
      customerId: t.customerId,
      spec: next.spec,
      desiredState: next.desiredState,
      source: t.source,
      ...operator,
    });
    if (changed) await this.d.queues.requestReconcile(id);
    return tenant;
  }

  private validate(input: unknown) {
    try {
      return parseTenantSpec(input, this.d.catalog);
    } catch (e) {
      if (e instanceof InvalidTenantSpecError)
        throw new ValidationError("invalid tenant", { problems: e.problems });
      throw e;
    }
  }
}

/** What a tenant that has not converged still has to carry out, in words. */
function pendingChanges(t: Tenant): string[] {
  const changes: string[] = [];
  if (t.observedState !== t.desiredState)
    changes.push(`state ${t.observedState ?? "none"} -> ${t.desiredState}`);
  const plan = appliedPlan(t);
  if (plan && plan !== t.spec.plan) changes.push(`plan ${plan} -> ${t.spec.plan}`);
  const version = t.appliedSpec?.odooVersion ?? t.outputs?.odooVersion;
  if (typeof version === "string" && version !== t.spec.odooVersion)
    changes.push(`Odoo ${version} -> ${t.spec.odooVersion}`);
  if (t.databaseMove)
    changes.push(
      `database move ${t.databaseMove.from} -> ${t.databaseMove.to} (${t.databaseMove.phase})`,
    );
  if (!changes.length) changes.push("apply the newest desired state");
  return changes;
}

/** A page cursor: opaque to clients (the last id of the page, base64url). */
export const encodeCursor = (lastId: string) => Buffer.from(lastId).toString("base64url");
export const decodeCursor = (cursor: string) => Buffer.from(cursor, "base64url").toString();

/** What the engine says of the tenant's runtime; undefined when it could not be asked. */
function runtimeOf(t: Tenant, seen: Map<string, RuntimeObservation> | undefined) {
  const runtimeName =
    typeof t.outputs?.runtimeName === "string" ? t.outputs.runtimeName : undefined;
  return seen && runtimeName ? (seen.get(runtimeName) ?? "missing") : undefined;
}

function viewOf(
  t: Tenant,
  op: Operation | undefined,
  seen: Map<string, RuntimeObservation> | undefined,
  nodes: Map<string, NodeState>,
  overLimit: OverLimit[],
): TenantView {
  const runtime = runtimeOf(t, seen);
  return {
    id: t.id,
    customerId: t.customerId,
    plan: t.spec.plan,
    odooVersion: t.spec.odooVersion,
    adminEmail: t.spec.adminEmail ?? null,
    desiredState: t.desiredState,
    operatorHold: t.operatorHold,
    suspendReason: t.desiredState === "suspended" ? t.suspendReason : null,
    billing: t.killbillSubscriptionId
      ? {
          subscriptionId: t.killbillSubscriptionId,
          accountId: t.killbillAccountId,
          state: t.billingState,
          status: t.billingStatus,
          endsOn: t.billingEndsOn,
        }
      : null,
    observedState: t.observedState,
    status: instanceStatus(t, runtime),
    dataKeptUntil: t.dataKeptUntil,
    sleepingSince: t.sleepingSince,
    lastActivityAt: t.lastActivityAt,
    overLimit: overLimit.map((o) => ({
      unit: o.unit,
      amount: o.amount,
      cap: o.cap,
      since: o.overSince,
    })),
    converged: t.observedGeneration >= t.desiredGeneration,
    pending:
      t.observedGeneration >= t.desiredGeneration
        ? null
        : { changes: pendingChanges(t), error: t.lastError },
    database: {
      placement: t.databasePlacement,
      move: t.databaseMove
        ? {
            from: t.databaseMove.from,
            to: t.databaseMove.to,
            phase: t.databaseMove.phase,
            startedAt: t.databaseMove.startedAt,
          }
        : null,
      kept: t.retiredDatabases,
    },
    node: t.node,
    nodeProblem: nodeProblem(t, nodes)?.reason ?? null,
    nodeMove: t.nodeMove
      ? { from: t.nodeMove.from, to: t.nodeMove.to, phase: t.nodeMove.phase }
      : null,
    desiredGeneration: t.desiredGeneration,
    observedGeneration: t.observedGeneration,
    url: typeof t.outputs?.url === "string" ? t.outputs.url : null,
    inputsFingerprint:
      typeof t.outputs?.[FINGERPRINT_OUTPUT] === "string" ? t.outputs[FINGERPRINT_OUTPUT] : null,
    drift: t.drift,
    lastError: t.lastError,
    source: t.source,
    lastOperation: op
      ? {
          id: op.id,
          type: op.type,
          status: op.status,
          startedAt: op.startedAt,
          finishedAt: op.finishedAt,
        }
      : null,
  };
}
