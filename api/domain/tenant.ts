import type { DatabasePlacement } from "../../components/tenant/database-placement";

// What a tenant is, as the API's services decide it and its store keeps it (the services decide,
// the store persists).

/**
 * Where a tenant stands with its bill, as the operator and the customer see it:
 *   trial            the subscription is in its trial phase;
 *   payment_required an invoice is open (no collection has failed yet, nothing overdue);
 *   paid             nothing is owed;
 *   overdue          Kill Bill's overdue policy has warned (the instance still runs);
 *   suspended        stopped for money: a failed payment, the overdue policy's blocking state,
 *                    or a paused bundle;
 *   ended            the subscription was cancelled or expired.
 */
export const BILLING_STATUSES = [
  "trial",
  "payment_required",
  "paid",
  "overdue",
  "suspended",
  "ended",
] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];

/**
 * active: running; suspended: stopped, billing or an operator will bring it back; terminated: the
 * subscription ended, stopped with its data kept until `dataKeptUntil` (reactivation brings it
 * back); deleted: destroyed, after a final verified backup.
 */
export type DesiredState = "active" | "suspended" | "terminated" | "deleted";
/** Why a tenant is suspended, so the customer is told the real reason. */
export type SuspendReason = "overdue" | "paused" | "operator" | "payment_failed";

/** The desired spec of a tenant without its state (state is kept apart, as billing moves it). */
export interface TenantDesiredSpec {
  plan: string;
  odooVersion: string;
  /** Where customer mail goes; absent when the billing account has no e-mail. */
  adminEmail?: string;
  subdomain?: string;
  customDomains?: string[];
}

/** A database a move left behind, kept until its date (then the stack drops it). */
export interface RetiredDatabase {
  placement: DatabasePlacement;
  keptUntil: string;
}

/** A database move under way: what it has done so far, so a crash resumes it where it stopped. */
export interface DatabaseMoveProgress {
  from: DatabasePlacement;
  to: DatabasePlacement;
  /** prepared: the target exists; stopped: Odoo stopped; copied: the data verified on the target. */
  phase: "prepared" | "stopped" | "copied";
  operationId: string;
  startedAt: string;
  /** When Odoo was stopped (the downtime starts). */
  stoppedAt?: string;
  /** The target database's fingerprint right after the copy: anything else means it was written. */
  copiedFingerprint?: string;
}

/**
 * A move between Swarm nodes under way (a tenant node's local volume): how far it got, so a crash
 * resumes it where it stopped. started: nothing done yet; prepared: the target node's volume made
 * (by the tenant's stack, empty); stopped: Odoo stopped (the downtime runs); copied: a verified
 * backup taken after the stop restored into the target's volume; switched: the tenant answers on
 * the target (its node), the source's copy still kept.
 */
export interface NodeMoveProgress {
  from: string;
  to: string;
  phase: "started" | "prepared" | "stopped" | "copied" | "switched";
  operationId: string;
  startedAt: string;
  stoppedAt?: string;
  /**
   * The filestore snapshot the target's volume holds: first the one copied there while the tenant
   * still served, then the one copied after the stop.
   */
  heldSnapshot?: string;
  /** The backup the target's files came from, and how many files it holds. */
  backupId?: string;
  files?: number;
  /** When the tenant answered on the target (the downtime ended). */
  answeredAt?: string;
  /**
   * The source node was lost: the files come from the tenant's last verified backup (`backupId`),
   * and what the stack held there is forgotten.
   */
  fromBackup?: boolean;
}

export interface Tenant {
  id: string;
  customerId: string;
  spec: TenantDesiredSpec;
  desiredState: DesiredState;
  desiredGeneration: number;
  observedGeneration: number;
  /** A generation the workers gave up on: left alone until a new one or an operator's retry. */
  gaveUpGeneration: number | null;
  observedState: DesiredState | null;
  outputs: Record<string, unknown> | null;
  lastError: string | null;
  source: "killbill" | "admin";
  killbillSubscriptionId: string | null;
  killbillAccountId: string | null;
  /** What billing alone says (null for tenants an operator created). */
  billingState: DesiredState | null;
  /** Where the tenant stands with its bill (null for tenants an operator created). */
  billingStatus: BillingStatus | null;
  /** A requested cancellation's last day (ISO date); null when none. */
  billingEndsOn: string | null;
  /** An operator's suspension: billing cannot lift it. */
  operatorHold: boolean;
  suspendReason: SuspendReason | null;
  /** When the tenant was terminated, and until when its stopped instance and data are kept. */
  terminatedAt: string | null;
  dataKeptUntil: string | null;
  deletedAt: string | null;
  /** An operator deleted it with ?skipBackup=true: no final backup. */
  skipFinalBackup: boolean;
  /** The latest drift check (null before the first): what was changed or deleted out of band. */
  drift: { checkedAt: string; resources: DriftedResource[] } | null;
  /** Where the tenant's database is (null before it was first provisioned). */
  databasePlacement: DatabasePlacement | null;
  /** Swarm on several nodes: the node holding its local volumes (null: the platform's volume node). */
  node: string | null;
  nodeMove: NodeMoveProgress | null;
  retiredDatabases: RetiredDatabase[];
  databaseMove: DatabaseMoveProgress | null;
  /** The stack spec the last successful engine run applied (null before the first). */
  appliedSpec: Record<string, unknown> | null;
  /**
   * Since when the tenant sleeps (null: awake): active as billing goes, but idle, so not running
   * until a request wakes it. Only an active tenant sleeps; a change of its desired state wakes it.
   */
  sleepingSince: string | null;
  /** When its gateway last reported it in use (null: never). */
  lastActivityAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A resource a drift check found changed (`update`) or gone (`delete`); property names only. */
export interface DriftedResource {
  type: string;
  name: string;
  op: string;
  changedProperties: string[];
}

/** What a decision that acts writes to the tenant: its whole billing-side record. */
export interface BillingWrite {
  tenantId: string;
  /** A new tenant (create, or recreate over one deleted for good). */
  fresh: boolean;
  customerId: string;
  spec: TenantDesiredSpec;
  desiredState: DesiredState;
  operatorHold: boolean;
  suspendReason: SuspendReason | null;
  subscriptionId: string;
  accountId: string;
  billingState: DesiredState;
  billingStatus: BillingStatus;
  endsOn: string | null;
  /** The desired state or spec changes: a new generation. */
  changed: boolean;
  /** A billing status transition is recorded (a new status, or a new binding). */
  transition: boolean;
}

/**
 * What a billing decision about a tenant reads (its binding, owner, states, hold and spec): a
 * write decided on one reading applies only while this is unchanged (else it is decided again).
 */
export function billingBasis(t: Tenant | undefined): string {
  if (!t) return "none";
  return JSON.stringify([
    t.killbillSubscriptionId,
    t.killbillAccountId,
    t.source,
    t.customerId,
    t.desiredState,
    t.observedState,
    t.operatorHold,
    t.spec,
  ]);
}
