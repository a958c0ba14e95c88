import type {
  BillingStatus,
  BillingWrite,
  DesiredState,
  SuspendReason,
  Tenant,
  TenantDesiredSpec,
} from "../domain/tenant";

/** What one Kill Bill subscription, re-read with its account, says about the tenant it names. */
export interface BillingFacts {
  tenantId: string;
  subscriptionId: string;
  accountId: string;
  customerId: string;
  /** Catalog plan id; empty when the subscription's plan says nothing (e.g. cancelled). */
  plan: string;
  billingState: DesiredState;
  billingStatus: BillingStatus;
  suspendReason?: SuspendReason;
  /** A requested cancellation's end of term (ISO date), while the subscription still runs. */
  endsOn: string | null;
  adminEmail: string | null;
  /** The subscription can still hold a tenant: PENDING, ACTIVE or BLOCKED. */
  live: boolean;
  /** When the tenant is bound to another subscription: whether that one is still live. */
  boundLive?: boolean;
}

export type BillingDecision =
  /** A new tenant bound to this subscription. */
  | { action: "create" }
  /** The tenant's own subscription: follow it. */
  | { action: "update" }
  /** The same customer subscribed again after the old subscription ended: follow the new one. */
  | { action: "rebind" }
  /** A tenant that was deleted for good: its id is free, this subscription starts it anew. */
  | { action: "recreate" }
  | { action: "ignore"; reason: string }
  /** Billing names a tenant it may not act on: shown to operators as a billing problem. */
  | { action: "conflict"; reason: string };

const gone = (t: Tenant) => t.desiredState === "deleted" && t.observedState === "deleted";

/**
 * Which subscription a tenant follows. A tenant follows exactly one subscription at a time, the
 * one bound at its creation: a cancelled subscription never overrides a live one holding the same
 * key, billing never takes over a tenant of another customer or one an operator created, and the
 * same customer's new subscription takes over only once the old one has ended.
 */
export function decideBilling(t: Tenant | undefined, f: BillingFacts): BillingDecision {
  if (!t)
    return f.live
      ? { action: "create" }
      : {
          action: "ignore",
          reason: `subscription ${f.subscriptionId} has ended; no tenant ${f.tenantId}`,
        };
  if (t.killbillSubscriptionId === f.subscriptionId) return { action: "update" };
  if (!f.live)
    return {
      action: "ignore",
      reason: `ended subscription ${f.subscriptionId} does not act on ${t.id}, which follows ${t.killbillSubscriptionId ?? "the operator"}`,
    };
  if (gone(t) && !f.boundLive) return { action: "recreate" };
  if (t.source === "admin")
    return {
      action: "conflict",
      reason: `tenant ${t.id} was created by an operator; subscription ${f.subscriptionId} (account ${f.accountId}) cannot take it over`,
    };
  if (t.killbillAccountId !== f.accountId)
    return {
      action: "conflict",
      reason: `tenant ${t.id} belongs to account ${t.killbillAccountId}; subscription ${f.subscriptionId} of account ${f.accountId} uses the same bundle key`,
    };
  if (f.boundLive)
    return {
      action: "conflict",
      reason: `tenant ${t.id} follows live subscription ${t.killbillSubscriptionId}; subscription ${f.subscriptionId} uses the same bundle key`,
    };
  return { action: "rebind" };
}

/** The state a tenant should be in: a termination wins, then an operator's hold, then billing. */
export function effectiveState(billing: DesiredState, operatorHold: boolean): DesiredState {
  if (billing === "terminated" || billing === "deleted") return billing;
  return operatorHold ? "suspended" : billing;
}

const canonical = (v: unknown) => JSON.stringify(v, Object.keys(v as object).sort());

/**
 * The decision for a reading and, when it acts, what it writes: a new tenant's spec (the plan, the
 * default Odoo version, the account's e-mail), or the tenant's own with billing's plan and e-mail;
 * the desired state billing and an operator's hold make together. The customer id names the
 * tenant's database, so it never changes while the tenant lives.
 */
export function billingChange(
  t: Tenant | undefined,
  f: BillingFacts,
  defaults: { odooVersion: string },
): { decision: BillingDecision; write?: BillingWrite } {
  const decision = decideBilling(t, f);
  if (decision.action === "ignore" || decision.action === "conflict") return { decision };
  const fresh = decision.action === "create" || decision.action === "recreate";
  const email = f.adminEmail ? { adminEmail: f.adminEmail } : {};
  const spec: TenantDesiredSpec = fresh
    ? { plan: f.plan, odooVersion: defaults.odooVersion, ...email, customDomains: [] }
    : { ...t!.spec, plan: f.plan || t!.spec.plan, ...email };
  const hold = fresh ? false : t!.operatorHold;
  const desiredState = effectiveState(f.billingState, hold);
  const customerId = fresh || !t ? f.customerId : t.customerId;
  return {
    decision,
    write: {
      tenantId: f.tenantId,
      fresh: !t,
      customerId,
      spec,
      desiredState,
      operatorHold: hold,
      suspendReason: hold ? "operator" : (f.suspendReason ?? null),
      subscriptionId: f.subscriptionId,
      accountId: f.accountId,
      billingState: f.billingState,
      billingStatus: f.billingStatus,
      endsOn: f.endsOn,
      changed:
        !t ||
        desiredState !== t.desiredState ||
        customerId !== t.customerId ||
        canonical(spec) !== canonical(t.spec),
      transition: !t || t.billingStatus !== f.billingStatus || decision.action !== "update",
    },
  };
}
