import * as fs from "node:fs";
import { XMLParser } from "fast-xml-parser";
import {
  billingPolicy,
  killBillCatalogXml,
  killBillOverdueXml,
  loadCatalog,
  planSchema,
} from "./index";
import { planData } from "./plans";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  isArray: (name, jpath) =>
    ["plan", "state", "price", "phase", "usage", "tier"].includes(name) ||
    jpath === "catalog.units.unit" ||
    jpath === "catalog.products.product" ||
    jpath === "catalog.currencies.currency",
});

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

describe("plan catalog", () => {
  const catalog = loadCatalog();

  it("has the five tiers, each answering to its own Kill Bill plan", () => {
    expect(catalog.planIds).toEqual(["trial", "basic", "standard", "premium", "enterprise"]);
    for (const plan of catalog.plans)
      for (const kb of plan.killbill.plans) expect(catalog.planForKillBill(kb)?.id).toBe(plan.id);
    expect(catalog.planForKillBill("no-such-plan")).toBeUndefined();
  });

  it("puts premium and enterprise on a dedicated PostgreSQL, the rest on the shared server", () => {
    expect(catalog.plans.map((p) => [p.id, p.database.placement])).toEqual([
      ["trial", "shared"],
      ["basic", "shared"],
      ["standard", "shared"],
      ["premium", "dedicated"],
      ["enterprise", "dedicated"],
    ]);
  });

  it.each([
    ["memory limit below minimum", (d: any) => (d[1].memoryMb = 100), "1.memoryMb"],
    ["unknown field", (d: any) => (d[0].gpu = 1), "0"],
    ["duplicate plan id", (d: any) => (d[2].id = "basic"), '2.id: duplicate plan id "basic"'],
    [
      "duplicate Kill Bill plan",
      (d: any) => (d[3].killbill.plans = ["odoo-basic-monthly"]),
      "3.killbill.plans.0",
    ],
    ["currency set differs", (d: any) => (d[4].monthlyPrice = { USD: 1 }), "4.monthlyPrice"],
    [
      "soft above hard memory",
      (d: any) => (d[1].odoo.limitMemorySoftMb = 5000),
      "1.odoo.limitMemorySoftMb",
    ],
    [
      "workers at their soft limit above the container's memory",
      (d: any) => (d[2].odoo.workers = 6),
      "2.odoo.limitMemorySoftMb",
    ],
    [
      "pool larger than the connection limit",
      (d: any) => (d[2].database.connectionLimit = 10),
      "2.database.connectionLimit",
    ],
    [
      "hard limit above the container",
      (d: any) => (d[0].odoo.limitMemoryHardMb = 2048),
      "1.odoo.limitMemoryHardMb".replace("1", "0"),
    ],
    ["trial-only without trial days", (d: any) => (d[0].trialDays = 0), "0.trialDays"],
    [
      "a bounded last usage tier",
      (d: any) => (d[1].usage.users.tiers.at(-1).upTo = 99),
      "1.usage.users.tiers.2.upTo: the last tier has no upper bound",
    ],
    [
      "usage tiers not ascending",
      (d: any) => (d[1].usage.storageGb.tiers[0].upTo = 2),
      "1.usage.storageGb.tiers.0.upTo: must exceed 2",
    ],
    [
      "a usage tier in other currencies",
      (d: any) => (d[2].usage.users.tiers[0].monthlyPrice = { USD: 1 }),
      "2.usage.users.tiers.0.monthlyPrice",
    ],
    [
      "a cap below what is included",
      (d: any) => (d[1].usage.users.cap = 2),
      "1.usage.users.cap: below what is included",
    ],
    [
      "billed overage without a price",
      (d: any) => (d[1].usage.storageGb.tiers = []),
      "1.usage.storageGb.tiers: overage billed past a cap needs tiers",
    ],
    [
      "a trial that bills usage",
      (d: any) => (d[0].usage.overLimit = "bill"),
      "0.usage.overLimit: a trial bills nothing",
    ],
  ])("rejects %s, naming the field", (_name, mutate, field) => {
    const data = clone(planData);
    mutate(data);
    expect(() => loadCatalog(data)).toThrow(field);
  });

  it("applies defaults through the schema", () => {
    expect(planSchema.parse(planData[1]).trialOnly).toBe(false);
  });
});

describe("Kill Bill catalog XML", () => {
  const catalog = loadCatalog();
  const doc = parser.parse(killBillCatalogXml(catalog)).catalog;

  it("keeps the stable catalog name, effective date and the default policy cases", () => {
    expect(doc.catalogName).toBe(billingPolicy.catalogName);
    expect(doc.effectiveDate).toBe(billingPolicy.effectiveDate);
    expect(doc.currencies.currency).toEqual(["EUR", "USD"]);
    expect(doc.rules.changePolicy.changePolicyCase.policy).toBe("IMMEDIATE");
    expect(doc.rules.cancelPolicy.cancelPolicyCase.policy).toBe("END_OF_TERM");
  });

  it("lists every plan exactly once, in the price list too, and each maps back to its tier", () => {
    const names: string[] = doc.plans.plan.map((p: any) => p["@_name"]);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(catalog.plans.map((p) => p.killbill.plans[0]).sort());
    expect([...doc.priceLists.defaultPriceList.plans.plan].sort()).toEqual(names.sort());
    for (const p of doc.plans.plan) {
      const tier = catalog.planForKillBill(p["@_name"])!;
      expect(p.product).toBe(tier.killbill.product);
    }
    expect(doc.products.product.map((p: any) => p["@_name"])).toEqual(
      catalog.plans.map((p) => p.killbill.product),
    );
  });

  it("bills paid tiers as TRIAL then EVERGREEN monthly at the catalog price", () => {
    const standard = doc.plans.plan.find((p: any) => p["@_name"] === "odoo-standard-monthly");
    expect(standard.initialPhases.phase[0]["@_type"]).toBe("TRIAL");
    expect(standard.initialPhases.phase[0].duration).toEqual({ unit: "DAYS", number: 14 });
    expect(standard.finalPhase["@_type"]).toBe("EVERGREEN");
    expect(standard.finalPhase.recurring.billingPeriod).toBe("MONTHLY");
    expect(standard.finalPhase.recurring.recurringPrice.price).toEqual([
      { currency: "EUR", value: 73 },
      { currency: "USD", value: 79 },
    ]);
    const premium = doc.plans.plan.find((p: any) => p["@_name"] === "odoo-premium-monthly");
    expect(premium.initialPhases).toBeUndefined(); // no trial days
  });

  it("bills priced usage in arrears on the period's peak: the included amount free, the last tier unbounded", () => {
    expect(doc.units.unit.map((u: any) => u["@_name"])).toEqual(["internal-users", "storage-gb"]);
    const basic = doc.plans.plan.find((p: any) => p["@_name"] === "odoo-basic-monthly");
    const usages = basic.finalPhase.usages.usage;
    expect(usages.map((u: any) => [u["@_name"], u["@_billingMode"], u["@_usageType"]])).toEqual([
      ["odoo-basic-monthly-internal-users", "IN_ARREAR", "CAPACITY"],
      ["odoo-basic-monthly-storage-gb", "IN_ARREAR", "CAPACITY"],
    ]);
    const tiers = (u: any) =>
      u.tiers.tier.map((t: any) => [
        t.limits.limit.max,
        t.recurringPrice.price.find((x: any) => x.currency === "USD").value,
      ]);
    expect(tiers(usages[0])).toEqual([
      [3, 0],
      [10, 30],
      [25, 75],
      [-1, 150],
    ]);
    expect(tiers(usages[1])).toEqual([
      [2, 0],
      [5, 5],
      [-1, 15],
    ]);
    // Not billed: the trial (its limits block) and the plans without priced usage.
    for (const name of ["odoo-trial", "odoo-premium-monthly", "odoo-enterprise-monthly"])
      expect(
        doc.plans.plan.find((p: any) => p["@_name"] === name).finalPhase.usages,
      ).toBeUndefined();
  });

  it("makes the trial-only tier a fixed term that expires", () => {
    const trial = doc.plans.plan.find((p: any) => p["@_name"] === "odoo-trial");
    expect(trial.finalPhase["@_type"]).toBe("FIXEDTERM");
    expect(trial.finalPhase.duration).toEqual({ unit: "DAYS", number: 14 });
    expect(trial.finalPhase.recurring).toBeUndefined();
  });
});

describe("Kill Bill overdue XML", () => {
  const doc = parser.parse(killBillOverdueXml()).overdueConfig.accountOverdueStates;

  it("lists the suspension state first, blocking entitlement, then the warning", () => {
    expect(doc.initialReevaluationInterval).toEqual({ unit: "DAYS", number: 1 });
    expect(doc.state.map((s: any) => s["@_name"])).toEqual(["SUSPENDED", "WARNING"]);
    const [suspended, warning] = doc.state;
    expect(suspended.disableEntitlementAndChangesBlocked).toBe(true);
    expect(suspended.condition.timeSinceEarliestUnpaidInvoiceEqualsOrExceeds.number).toBe(14);
    expect(warning.disableEntitlementAndChangesBlocked).toBe(false);
    expect(warning.condition.timeSinceEarliestUnpaidInvoiceEqualsOrExceeds.number).toBe(3);
  });
});

describe("committed XML (catalog/generated)", () => {
  it.each([
    ["killbill-catalog.xml", () => killBillCatalogXml(loadCatalog())],
    ["killbill-overdue.xml", () => killBillOverdueXml()],
  ])("%s is up to date with the plans (run `npm run catalog:xml`)", (file, make) => {
    const committed = fs.readFileSync(`${__dirname}/generated/${file}`, "utf8");
    expect(committed).toBe(make());
  });
});
