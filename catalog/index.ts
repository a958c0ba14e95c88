export { Catalog, CatalogError, loadCatalog, formatIssues } from "./catalog";
export { planSchema, type Plan } from "./plan-schema";
export { billingPolicy } from "./billing-policy";
export { killBillCatalogXml, killBillOverdueXml } from "./killbill-xml";
