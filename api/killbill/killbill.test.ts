import { loadCatalog } from "../../catalog";
import type { KillBillAccount, KillBillSubscription } from "./client";
import type { DesiredState, Tenant } from "../domain/tenant";
import { decideBilling, effectiveState, type BillingFacts } from "./binding";
import { billingNotices } from "./billing-notices";
import { billingStatusOf, type BillingReadings } from "./billing-status";
import { factsFromBilling } from "./desired-state";
import { customerIdFromAccount } from "./identity";
import { notificationSchema } from "./notification";
import { tenantFixture } from "../../test/fixtures";

const catalog = loadCatalog();
const account: KillBillAccount = {
  accountId: "a-1",
  externalKey: "ACME-Corp",
  name: "Acme",
  email: "owner@acme.example",
};
const subscription = (patch: Partial<KillBillSubscription> = {}): KillBillSubscription => ({
  subscriptionId: "s-1",
  accountId: "a-1",
  bundleId: "b-1",
  bundleExternalKey: "acme",
  planName: "odoo-standard-monthly",
  phaseType: "EVERGREEN",
  state: "ACTIVE",
  ...patch,
});

/** An account that owes nothing. */
const paid = { overdueBlocks: false, unpaidBalance: 0, failedPaymentOpen: false };

describe("factsFromBilling", () => {
  const now = new Date("2026-11-26T12:00:00Z");
  it.each<[string, Partial<KillBillSubscription>, object]>([
    [
      "ACTIVE -> active on the mapped tier",
      {},
      { kind: "facts", facts: { billingState: "active", plan: "standard", live: true } },
    ],
    [
      "a new plan -> that tier",
      { planName: "odoo-premium-monthly" },
      { kind: "facts", facts: { plan: "premium" } },
    ],
    [
      "BLOCKED -> suspended",
      { state: "BLOCKED" },
      { kind: "facts", facts: { billingState: "suspended", live: true } },
    ],
    [
      "PENDING -> active, live",
      { state: "PENDING" },
      { kind: "facts", facts: { billingState: "active", live: true } },
    ],
    [
      "CANCELLED -> terminated (data kept), ended",
      { state: "CANCELLED" },
      { kind: "facts", facts: { billingState: "terminated", live: false } },
    ],
    [
      "EXPIRED -> terminated",
      { state: "EXPIRED", planName: "odoo-trial" },
      { kind: "facts", facts: { billingState: "terminated", plan: "trial" } },
    ],
    [
      "CANCELLED on an unknown plan -> still terminated",
      { state: "CANCELLED", planName: "old-plan" },
      { kind: "facts", facts: { billingState: "terminated", plan: "" } },
    ],
    [
      "a trial past its days by our clock -> terminated (0.22 does not expire FIXEDTERM)",
      { planName: "odoo-trial", startDate: "2026-11-01" },
      { kind: "facts", facts: { billingState: "terminated", live: false } },
    ],
    [
      "a trial within its days -> active",
      { planName: "odoo-trial", startDate: "2026-11-20" },
      { kind: "facts", facts: { billingState: "active" } },
    ],
    [
      "an upper-case bundle key -> normalised",
      { bundleExternalKey: " Acme " },
      { kind: "facts", facts: { tenantId: "acme" } },
    ],
    [
      "a live unknown plan -> a problem",
      { planName: "gold" },
      { kind: "problem", problem: 'plan "gold" is not in the catalog' },
    ],
    [
      "no bundle key -> a problem",
      { bundleExternalKey: null },
      { kind: "problem", problem: expect.stringContaining("no external key") },
    ],
    [
      "the bundle's own id as key -> a problem",
      {
        bundleExternalKey: "0f8fad5b-d9cb-469f-a165-70867728950e",
        bundleId: "0f8fad5b-d9cb-469f-a165-70867728950e",
      },
      { kind: "problem" },
    ],
    [
      "a key that is no DNS label -> a problem",
      { bundleExternalKey: "Not_A_Label" },
      { kind: "problem", problem: expect.stringContaining("is not a tenant id") },
    ],
    [
      "a reserved key -> a problem",
      { bundleExternalKey: "admin" },
      { kind: "problem", problem: expect.stringContaining("reserved") },
    ],
    [
      "an ended subscription with a bad key -> ignored",
      { bundleExternalKey: null, state: "CANCELLED" },
      { kind: "ignore" },
    ],
  ])("%s", (_name, patch, expected) => {
    expect(factsFromBilling(subscription(patch), account, catalog, now, paid)).toMatchObject(
      expected,
    );
  });

  it("takes identity from the bundle and account keys", () => {
    expect(factsFromBilling(subscription(), account, catalog, now, paid)).toEqual({
      kind: "facts",
      facts: {
        tenantId: "acme",
        subscriptionId: "s-1",
        accountId: "a-1",
        customerId: "acme-corp",
        plan: "standard",
        billingState: "active",
        billingStatus: "paid",
        endsOn: null,
        adminEmail: "owner@acme.example",
        live: true,
      },
    });
  });

  it.each<[string, Partial<KillBillSubscription>, Partial<BillingReadings>, object]>([
    [
      "a failed payment on an open invoice -> suspended at once",
      {},
      { unpaidBalance: 27, failedPaymentOpen: true },
      { billingState: "suspended", billingStatus: "suspended", suspendReason: "payment_failed" },
    ],
    [
      "an overdue warning -> still active",
      {},
      { unpaidBalance: 27, overdueState: "WARNING" },
      { billingState: "active", billingStatus: "overdue" },
    ],
    [
      "a cancellation at the end of term -> runs until then",
      { cancelledDate: "2026-12-26" },
      {},
      { billingState: "active", endsOn: "2026-12-26" },
    ],
    [
      "the cancellation took effect -> terminated, no end date left",
      { cancelledDate: "2026-11-26", state: "CANCELLED" },
      {},
      { billingState: "terminated", billingStatus: "ended", endsOn: null },
    ],
  ])("%s", (_name, patch, money, expected) => {
    const read = factsFromBilling(subscription(patch), account, catalog, now, {
      ...paid,
      ...money,
    });
    expect(read).toMatchObject({ kind: "facts", facts: expected });
  });
});

describe("billingStatusOf: the most serious reading wins", () => {
  const r = (patch: Partial<BillingReadings>): BillingReadings => ({
    subscriptionState: "ACTIVE",
    phaseType: "EVERGREEN",
    ...paid,
    ...patch,
  });
  it.each<[string, Partial<BillingReadings>, string, string | null]>([
    ["nothing owed", {}, "paid", null],
    ["in its trial phase", { phaseType: "TRIAL" }, "trial", null],
    ["an open invoice", { unpaidBalance: 27 }, "payment_required", null],
    ["a failed payment since paid", { failedPaymentOpen: true }, "paid", null],
    [
      "a failed payment, still open",
      { unpaidBalance: 27, failedPaymentOpen: true },
      "suspended",
      "payment_failed",
    ],
    ["overdue warning", { unpaidBalance: 27, overdueState: "WARNING" }, "overdue", null],
    [
      "overdue, blocking",
      {
        unpaidBalance: 27,
        overdueState: "SUSPENDED",
        overdueBlocks: true,
        subscriptionState: "BLOCKED",
      },
      "suspended",
      "overdue",
    ],
    [
      "a paused bundle",
      { subscriptionState: "BLOCKED", overdueState: "__KILLBILL__CLEAR__OVERDUE_STATE__" },
      "suspended",
      "paused",
    ],
    [
      "clear overdue state, trial",
      { overdueState: "__KILLBILL__CLEAR__OVERDUE_STATE__", phaseType: "TRIAL" },
      "trial",
      null,
    ],
    ["cancelled", { subscriptionState: "CANCELLED", unpaidBalance: 27 }, "ended", null],
  ])("%s -> %s", (_name, patch, status, reason) => {
    expect(billingStatusOf(r(patch))).toEqual(
      reason ? { status, suspendReason: reason } : { status },
    );
  });
});

describe("customerIdFromAccount", () => {
  it.each([
    ["acme-corp", "acme-corp"],
    ["ACME-Corp", "acme-corp"],
    // Changed by normalisation: a digest keeps john@example.com and john.example.com apart.
    ["john@example.com", "john-example-com-2f4a0c1e"],
    ["john.example.com", "john-example-com-f0d3c5a9"],
    [null, "0f8fad5b-d9cb-469f-a165-70867728950e"],
    ["", "0f8fad5b-d9cb-469f-a165-70867728950e"],
    [
      "a-very-long-external-key-from-another-billing-system-42",
      "a-very-long-external-key-from-a-93b1a0f0",
    ],
    ["@@@", "customer-ef8b5d1b"],
  ])("%s -> %s", (key, id) => {
    const got = customerIdFromAccount(key, "0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(got.replace(/[0-9a-f]{8}$/, "x")).toBe(id.replace(/[0-9a-f]{8}$/, "x"));
    expect(got).toMatch(/^[a-z0-9][a-z0-9_-]{0,39}$/);
  });

  it("is stable and keeps different keys apart", () => {
    expect(customerIdFromAccount("john@example.com", "x")).toBe(
      customerIdFromAccount("john@example.com", "y"),
    );
    expect(customerIdFromAccount("john@example.com", "x")).not.toBe(
      customerIdFromAccount("john.example.com", "x"),
    );
  });
});

describe("decideBilling: which subscription a tenant follows", () => {
  const tenant = tenantFixture;
  const facts = (patch: Partial<BillingFacts> = {}): BillingFacts => ({
    tenantId: "acme",
    subscriptionId: "s-new",
    accountId: "a-1",
    customerId: "acme-corp",
    plan: "standard",
    billingState: "active",
    billingStatus: "paid",
    endsOn: null,
    adminEmail: "o@acme.example",
    live: true,
    ...patch,
  });
  it.each<[string, Tenant | undefined, Partial<BillingFacts>, string]>([
    ["no tenant, live subscription", undefined, {}, "create"],
    [
      "no tenant, ended subscription",
      undefined,
      { live: false, billingState: "terminated" },
      "ignore",
    ],
    ["its own subscription", tenant(), { subscriptionId: "s-old" }, "update"],
    [
      "its own subscription, cancelled",
      tenant(),
      { subscriptionId: "s-old", live: false, billingState: "terminated" },
      "update",
    ],
    [
      "an old cancelled subscription of the same key (returning customer)",
      tenant(),
      { subscriptionId: "s-older", live: false, billingState: "terminated" },
      "ignore",
    ],
    [
      "the same customer again after the old one ended (reactivation of a terminated tenant)",
      tenant({ billingState: "terminated", desiredState: "terminated" }),
      { boundLive: false },
      "rebind",
    ],
    [
      "the same customer, the old subscription still live",
      tenant(),
      { boundLive: true },
      "conflict",
    ],
    [
      "another account's subscription with the same key",
      tenant(),
      { accountId: "a-2", boundLive: false },
      "conflict",
    ],
    [
      "a tenant an operator created",
      tenant({ source: "admin", killbillSubscriptionId: null, killbillAccountId: null }),
      { boundLive: undefined },
      "conflict",
    ],
    [
      "a tenant deleted for good, another customer",
      tenant({ desiredState: "deleted", observedState: "deleted", billingState: "deleted" }),
      { accountId: "a-2", boundLive: false },
      "recreate",
    ],
  ])("%s -> %s", (_name, t, patch, action) => {
    expect(decideBilling(t, facts(patch)).action).toBe(action);
  });

  it.each<[DesiredState, boolean, DesiredState]>([
    ["active", false, "active"],
    ["active", true, "suspended"],
    ["suspended", false, "suspended"],
    ["terminated", true, "terminated"],
    ["deleted", true, "deleted"],
  ])("billing %s, operator hold %s -> %s", (billing, hold, state) => {
    expect(effectiveState(billing, hold)).toBe(state);
  });
});

describe("notificationSchema (Kill Bill NotificationJson)", () => {
  const body = {
    eventType: "SUBSCRIPTION_CREATION",
    objectType: "SUBSCRIPTION",
    objectId: "s-1",
    accountId: "a-1",
    metaData:
      '{"actionType":"EFFECTIVE","bundleExternalKey":"acme","subscriptionChangeUndo":false}',
  };

  it("parses metaData a second time", () => {
    expect(notificationSchema.parse(body).metaData).toEqual({
      actionType: "EFFECTIVE",
      bundleExternalKey: "acme",
      subscriptionChangeUndo: false,
    });
  });

  it("keeps plain-text metaData as text instead of refusing the event", () => {
    expect(notificationSchema.parse({ ...body, metaData: "PER_TENANT_CONFIG" }).metaData).toEqual({
      text: "PER_TENANT_CONFIG",
    });
  });

  it.each([
    ["null metaData (OVERDUE_CHANGE)", { metaData: null }, true],
    ["null ids (INVOICE_NOTIFICATION, TENANT_CONFIG_*)", { objectId: null, accountId: null }, true],
    ["an unknown but well-formed event type", { eventType: "FUTURE_EVENT" }, true],
    [
      "plain-text metaData (TENANT_CONFIG_CHANGE, TAG_CREATION)",
      { metaData: "PER_TENANT_CONFIG" },
      true,
    ],
    ["a lower-case event type", { eventType: "subscription_creation" }, false],
    ["a numeric event type", { eventType: 7 }, false],
    ["an extra field", { tenantId: "t" }, false],
  ])("%s -> accepted: %s", (_name, patch, accepted) => {
    expect(notificationSchema.safeParse({ ...body, ...patch }).success).toBe(accepted);
  });

  it("requires every one of the five fields", () => {
    for (const key of Object.keys(body)) {
      const partial: Record<string, unknown> = { ...body };
      delete partial[key];
      expect(notificationSchema.safeParse(partial).success).toBe(false);
    }
  });
});

describe("billingNotices: each billing change told once", () => {
  const t = (patch: Partial<Tenant>): Tenant =>
    ({
      id: "acme",
      spec: { plan: "basic", odooVersion: "17" },
      desiredState: "active",
      billingStatus: "paid",
      billingEndsOn: null,
      ...patch,
    }) as Tenant;
  it.each<[string, Partial<Tenant> | undefined, Partial<Tenant>, string[]]>([
    ["a new trial", undefined, { billingStatus: "trial" }, []],
    [
      "the trial ends, invoice open",
      { billingStatus: "trial" },
      { billingStatus: "payment_required" },
      ["payment_required"],
    ],
    [
      "paid",
      { billingStatus: "payment_required" },
      { billingStatus: "paid" },
      ["payment_received"],
    ],
    [
      "paid after a suspension (the reconciler tells)",
      { billingStatus: "suspended" },
      { billingStatus: "paid" },
      [],
    ],
    [
      "overdue warning",
      { billingStatus: "payment_required" },
      { billingStatus: "overdue" },
      ["overdue"],
    ],
    ["overdue again (duplicate)", { billingStatus: "overdue" }, { billingStatus: "overdue" }, []],
    // A plan change is told by the reconciler once carried out, never when billing decides it.
    ["upgrade", {}, { spec: { plan: "standard", odooVersion: "17" } }, []],
    ["cancellation requested", {}, { billingEndsOn: "2026-12-26" }, ["cancellation_requested"]],
    [
      "cancellation already told",
      { billingEndsOn: "2026-12-26" },
      { billingEndsOn: "2026-12-26" },
      [],
    ],
  ])("%s -> %j", (_name, before, after, kinds) => {
    expect(billingNotices(before && t(before), t(after)).map((n) => n.kind)).toEqual(kinds);
  });
});
