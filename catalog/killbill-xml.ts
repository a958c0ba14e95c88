import { XMLBuilder } from "fast-xml-parser";
import { billingPolicy } from "./billing-policy";
import type { Catalog } from "./catalog";
import type { Plan } from "./plan-schema";

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
    },
  };
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
