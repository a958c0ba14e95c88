import type { Catalog } from "../../catalog";
import type { DesiredState } from "../store/tenant-store";
import type { KillBillAccount, KillBillSubscription } from "./client";

export type DesiredFromBilling =
  | {
      kind: "set";
      tenantId: string;
      customerId: string;
      plan: string;
      state: DesiredState;
      adminEmail: string;
    }
  | { kind: "ignore"; reason: string };

const TENANT_ID = /^[a-z0-9]([a-z0-9-]{1,38}[a-z0-9])$/;

/**
 * What billing says a tenant should be, from a subscription and its account as re-read over
 * REST (never from the event itself). Identity: the bundle's external key is the tenant id; the
 * account's external key is the customer id; the account's e-mail is the admin e-mail.
 *   ACTIVE -> active on the tier of its planName; BLOCKED -> suspended;
 *   CANCELLED / EXPIRED -> deleted; PENDING -> nothing yet.
 */
export function desiredFromBilling(
  subscription: KillBillSubscription,
  account: KillBillAccount,
  catalog: Catalog,
): DesiredFromBilling {
  const tenantId = subscription.bundleExternalKey ?? "";
  if (!TENANT_ID.test(tenantId))
    return { kind: "ignore", reason: `bundle external key "${tenantId}" is not a tenant id` };
  const customerId = (account.externalKey ?? account.accountId).toLowerCase();
  const adminEmail = account.email ?? "";
  const state: DesiredState | undefined = {
    ACTIVE: "active" as const,
    BLOCKED: "suspended" as const,
    CANCELLED: "deleted" as const,
    EXPIRED: "deleted" as const,
    PENDING: undefined,
  }[subscription.state];
  if (!state) return { kind: "ignore", reason: `subscription is ${subscription.state}` };
  const plan = subscription.planName ? catalog.planForKillBill(subscription.planName) : undefined;
  if (!plan && state !== "deleted")
    return { kind: "ignore", reason: `plan "${subscription.planName}" is not in the catalog` };
  return { kind: "set", tenantId, customerId, plan: plan?.id ?? "", state, adminEmail };
}
