export { Catalog, CatalogError, loadCatalog, formatIssues } from "./catalog";
export { planSchema, type Plan } from "./plan-schema";
export { billingPolicy } from "./billing-policy";
export { killBillCatalogXml, killBillOverdueXml } from "./killbill-xml";
export { usageSectionName } from "./killbill-xml";
export {
  USAGE_UNITS,
  USAGE_UNIT_NAMES,
  usageAmounts,
  usageCharge,
  type UsageUnit,
  type UsageMeasurement,
} from "./usage-units";
