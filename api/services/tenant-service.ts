import { FINGERPRINT_OUTPUT } from "../../automation/inputs-fingerprint";
import type { DriftService } from "./drift-service";
import type { Catalog } from "../../catalog";
import { parseTenantSpec, InvalidTenantSpecError } from "../../stacks/tenant/tenant-spec";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import type { Queues } from "../jobs/queues";
import type { Operation, OperationStore } from "../store/operation-store";
import { effectiveState } from "../killbill/binding";
import type { BillingProblem, BillingProblemStore } from "../store/billing-problem-store";
import type {
  DesiredState,
  SuspendReason,
  Tenant,
  TenantPageQuery,
  TenantStore,
} from "../store/tenant-store";
import type { BillingSync } from "./billing-sync";
import type { SharedDatabaseCapacity } from "./database-capacity";
import type { PreviewOutcome, TenantStacks } from "../../automation";
import type { Metrics } from "../metrics";
import type { BillingStatus } from "../killbill/billing-status";
import type { BackupService } from "./backup-service";
import { INSTANCE_STATUSES, instanceStatus, type InstanceStatus } from "./instance-status";
import { unmaintainedReason } from "../../components/tenant/odoo-versions";
import type { RuntimeObservation, TenantRuntime } from "./tenant-runtime";

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
  converged: boolean;
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
      capacity: SharedDatabaseCapacity;
      operations: OperationStore;
      queues: Queues;
      catalog: Catalog;
      stacks: TenantStacks;
      billing: BillingSync;
      problems: BillingProblemStore;
      backups: BackupService;
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

  /** The engine's view of every runtime; none (status from the last operation) if it cannot be read. */
  private observed(): Promise<Map<string, RuntimeObservation> | undefined> {
    return this.d.runtime.observeAllRecent().catch(() => undefined);
  }

  /** Subscriptions that bill a customer without an instance of them. */
  billingProblems(): Promise<BillingProblem[]> {
    return this.d.problems.open();
  }

  /** The tenant's billing status transitions, oldest first, with their causes. */
  async billingTransitions(id: string) {
    await this.get(id);
    return this.d.tenants.billingTransitions(id);
  }

  /** Reads every Kill Bill account again now (it also runs at start and periodically). */
  resyncBilling() {
    return this.d.billing.resync();
  }

  async view(t: Tenant): Promise<TenantView> {
    const [op, seen] = await Promise.all([this.d.operations.latest(t.id), this.observed()]);
    return viewOf(t, op, seen);
  }

  /** One page of tenants with their last operations: two queries whatever the fleet's size. */
  async list(q: TenantPageQuery): Promise<{ tenants: TenantView[]; nextCursor: string | null }> {
    const [{ tenants, more }, seen] = await Promise.all([this.d.tenants.page(q), this.observed()]);
    const latest = await this.d.operations.latestFor(tenants.map((t) => t.id));
    return {
      tenants: tenants.map((t) => viewOf(t, latest.get(t.id), seen)),
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
    const unmaintained = unmaintainedReason(spec.odooVersion);
    if (unmaintained) throw new ValidationError(unmaintained);
    const full = await this.d.capacity.refusal({ tenantId: spec.tenantId, plan: spec.plan });
    if (full) throw new ConflictError(full);
    const { tenantId, customerId, state, ...rest } = spec;
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
    const full = await this.d.capacity.refusal({ tenantId: id, plan });
    if (full) throw new ConflictError(full);
    return this.update(id, (t) => ({ spec: { ...t.spec, plan } }));
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
    return this.d.stacks.preview({
      tenantId: t.id,
      customerId: t.customerId,
      ...t.spec,
      state: t.desiredState,
    });
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
    converged: t.observedGeneration >= t.desiredGeneration,
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
