import { XMLBuilder } from "fast-xml-parser";
import { billingPolicy } from "./billing-policy";
import type { Catalog } from "./catalog";
import type { Plan } from "./plan-schema";
import { USAGE_UNIT_NAMES, USAGE_UNITS } from "./usage-units";

// Element order matters to Kill Bill's JAXB schema; objects below are written in schema order.
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: false,
});

const xmlHeader = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

type Policy = typeof billingPolicy;

function prices(amounts: Record<string, number>, currencies: string[]) {
  return { price: currencies.map((currency) => ({ currency, value: amounts[currency] })) };
}

function zeroPrices(currencies: string[]) {
  return prices(Object.fromEntries(currencies.map((c) => [c, 0])), currencies);
}

function days(n: number) {
  return { unit: "DAYS", number: n };
}

function planXml(plan: Plan, currencies: string[]) {
  const name = plan.killbill.plans[0];
  if (plan.trialOnly) {
    // No billing after the trial: a fixed-term final phase, so the subscription EXPIREs.
    return {
      "@_name": name,
      product: plan.killbill.product,
      finalPhase: {
        "@_type": "FIXEDTERM",
        duration: days(plan.trialDays),
        fixed: { fixedPrice: zeroPrices(currencies) },
      },
    };
  }
  const trial =
    plan.trialDays > 0
      ? {
          initialPhases: {
            phase: {
              "@_type": "TRIAL",
              duration: days(plan.trialDays),
              fixed: { fixedPrice: zeroPrices(currencies) },
            },
          },
        }
      : {};
  return {
    "@_name": name,
    product: plan.killbill.product,
    ...trial,
    finalPhase: {
      "@_type": "EVERGREEN",
      duration: { unit: "UNLIMITED" },
      recurring: {
        billingPeriod: "MONTHLY",
        recurringPrice: prices(plan.monthlyPrice, currencies),
      },
      ...usagesXml(plan, currencies),
    },
  };
}

/** The Kill Bill usage section's name for one unit of a plan (its invoice items carry it). */
export function usageSectionName(killBillPlan: string, unit: keyof typeof USAGE_UNITS): string {
  return `${killBillPlan}-${USAGE_UNITS[unit].killbillUnit}`;
}

/**
 * A plan's priced units as CAPACITY usage billed in arrears: Kill Bill takes the period's peak
 * of the daily records and bills the first tier whose limit holds it. The first tier is what
 * the plan includes, at no charge; the last has no upper bound (-1), so no peak is unbillable.
 */
function usagesXml(plan: Plan, currencies: string[]) {
  const usage = plan.usage;
  if (!usage) return {};
  const sections = USAGE_UNIT_NAMES.filter((unit) => usage[unit].tiers.length > 0).map((unit) => {
    const u = usage[unit];
    const tier = (max: number, amounts: Record<string, number> | undefined) => ({
      limits: { limit: { unit: USAGE_UNITS[unit].killbillUnit, max } },
      recurringPrice: amounts ? prices(amounts, currencies) : zeroPrices(currencies),
    });
    return {
      "@_name": usageSectionName(plan.killbill.plans[0], unit),
      "@_billingMode": "IN_ARREAR",
      "@_usageType": "CAPACITY",
      billingPeriod: "MONTHLY",
      tiers: {
        tier: [
          tier(u.included, undefined),
          ...u.tiers.map((t) => tier(t.upTo ?? -1, t.monthlyPrice)),
        ],
      },
    };
  });
  return sections.length ? { usages: { usage: sections } } : {};
}

/** The Kill Bill 0.24 catalog XML for every plan of the catalog (one default price list). */
export function killBillCatalogXml(catalog: Catalog, policy: Policy = billingPolicy): string {
  const currencies = catalog.currencies;
  const doc = {
    catalog: {
      "@_xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
      "@_xsi:noNamespaceSchemaLocation": "CatalogSchema.xsd",
      effectiveDate: policy.effectiveDate,
      catalogName: policy.catalogName,
      recurringBillingMode: "IN_ADVANCE",
      currencies: { currency: currencies },
      units: { unit: USAGE_UNIT_NAMES.map((u) => ({ "@_name": USAGE_UNITS[u].killbillUnit })) },
      products: {
        product: catalog.plans.map((p) => ({ "@_name": p.killbill.product, category: "BASE" })),
      },
      rules: {
        // Kill Bill's validator requires a default (unconditioned) case for both.
        changePolicy: { changePolicyCase: { policy: policy.changePolicy } },
        cancelPolicy: { cancelPolicyCase: { policy: policy.cancelPolicy } },
      },
      plans: { plan: catalog.plans.map((p) => planXml(p, currencies)) },
      priceLists: {
        defaultPriceList: {
          "@_name": "DEFAULT",
          plans: { plan: catalog.plans.map((p) => p.killbill.plans[0]) },
        },
      },
    },
  };
  return xmlHeader + builder.build(doc);
}

/** The Kill Bill overdue XML: most severe state first (Kill Bill takes the first match). */
export function killBillOverdueXml(policy: Policy = billingPolicy): string {
  const { overdue } = policy;
  const after = (n: number) => ({ timeSinceEarliestUnpaidInvoiceEqualsOrExceeds: days(n) });
  const doc = {
    overdueConfig: {
      accountOverdueStates: {
        initialReevaluationInterval: days(overdue.reevaluationIntervalDays),
        state: [
          {
            "@_name": "SUSPENDED",
            condition: after(overdue.suspendAfterDays),
            externalMessage:
              "Your Odoo instance is suspended until the outstanding balance is paid",
            blockChanges: true,
            // Blocks entitlement: the subscription turns BLOCKED and the instance is suspended.
            disableEntitlementAndChangesBlocked: true,
            autoReevaluationInterval: days(overdue.reevaluationIntervalDays),
          },
          {
            "@_name": "WARNING",
            condition: after(overdue.warningAfterDays),
            externalMessage: "Your account has an unpaid invoice",
            blockChanges: false,
            disableEntitlementAndChangesBlocked: false,
            autoReevaluationInterval: days(overdue.reevaluationIntervalDays),
          },
        ],
      },
    },
  };
  return xmlHeader + builder.build(doc);
}
