import { loadCatalog } from "../../catalog";
import type { KillBillAccount, KillBillSubscription } from "./client";
import { desiredFromBilling } from "./desired-state";
import { notificationSchema } from "./notification";

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

describe("desiredFromBilling", () => {
  it.each<[string, Partial<KillBillSubscription>, object]>([
    ["ACTIVE -> active on the mapped tier", {}, { kind: "set", state: "active", plan: "standard" }],
    [
      "a new plan -> that tier",
      { planName: "odoo-premium-monthly" },
      { kind: "set", state: "active", plan: "premium" },
    ],
    [
      "BLOCKED -> suspended",
      { state: "BLOCKED" },
      { kind: "set", state: "suspended", plan: "standard" },
    ],
    ["CANCELLED -> deleted", { state: "CANCELLED" }, { kind: "set", state: "deleted" }],
    [
      "EXPIRED -> deleted",
      { state: "EXPIRED", planName: "odoo-trial" },
      { kind: "set", state: "deleted", plan: "trial" },
    ],
    [
      "CANCELLED on an unknown plan -> still deleted",
      { state: "CANCELLED", planName: "old-plan" },
      { kind: "set", state: "deleted", plan: "" },
    ],
    [
      "PENDING -> nothing yet",
      { state: "PENDING" },
      { kind: "ignore", reason: "subscription is PENDING" },
    ],
    [
      "an unknown plan -> ignored",
      { planName: "gold" },
      { kind: "ignore", reason: 'plan "gold" is not in the catalog' },
    ],
    [
      "no bundle key -> ignored",
      { bundleExternalKey: null },
      { kind: "ignore", reason: 'bundle external key "" is not a tenant id' },
    ],
    ["a bad bundle key -> ignored", { bundleExternalKey: "Not_A_Label" }, { kind: "ignore" }],
  ])("%s", (_name, patch, expected) => {
    expect(desiredFromBilling(subscription(patch), account, catalog)).toMatchObject(expected);
  });

  it("takes identity from the bundle and account keys", () => {
    expect(desiredFromBilling(subscription(), account, catalog)).toEqual({
      kind: "set",
      tenantId: "acme",
      customerId: "acme-corp",
      plan: "standard",
      state: "active",
      adminEmail: "owner@acme.example",
    });
  });
});

describe("notificationSchema (Kill Bill 0.24 NotificationJson)", () => {
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

  it.each([
    ["null metaData (OVERDUE_CHANGE)", { metaData: null }, true],
    ["null ids (INVOICE_NOTIFICATION, TENANT_CONFIG_*)", { objectId: null, accountId: null }, true],
    ["an unknown but well-formed event type", { eventType: "FUTURE_EVENT" }, true],
    ["metaData that is not JSON", { metaData: "{nope" }, false],
    ["metaData that is a JSON array", { metaData: "[1]" }, false],
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
