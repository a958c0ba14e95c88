import { killBillCatalogXml, killBillOverdueXml, type Catalog } from "../../catalog";
import { killBillHeaders, type KillBillConnection } from "./client";

/** Kill Bill's error code for uploading a catalog version it already has. */
const CATALOG_VERSION_EXISTS = 2080;

/**
 * Makes a Kill Bill tenant ready for this platform, idempotently: the tenant (API key/secret),
 * the catalog and overdue policy generated from our plans (Kill Bill validates them), and the
 * callback that sends its notifications to the API's webhook. Each step says what it did.
 */
export async function setUpKillBill(
  c: KillBillConnection,
  catalog: Catalog,
  callbackUrl: string,
): Promise<string[]> {
  const done: string[] = [];
  const call = async (method: string, path: string, body?: string, tenant = true) => {
    const res = await fetch(new URL(path, c.url), {
      method,
      headers: {
        ...killBillHeaders(c, { tenant, createdBy: "odoo-saas" }),
        ...(body === undefined
          ? {}
          : { "Content-Type": body.startsWith("<") ? "text/xml" : "application/json" }),
      },
      body,
      signal: AbortSignal.timeout(c.timeoutMs ?? 30000),
    });
    return { status: res.status, text: await res.text() };
  };
  const fail = (what: string, r: { status: number; text: string }) =>
    new Error(`Kill Bill refused ${what}: ${r.status} ${r.text.slice(0, 300)}`);

  const tenant = await call(
    "POST",
    "/1.0/kb/tenants",
    JSON.stringify({ apiKey: c.apiKey, apiSecret: c.apiSecret }),
    false,
  );
  if (tenant.status === 201) done.push(`tenant ${c.apiKey} created`);
  else if (tenant.status === 409 || /already exists/i.test(tenant.text))
    done.push(`tenant ${c.apiKey} exists`);
  else throw fail("the tenant", tenant);

  const xml = await call("POST", "/1.0/kb/catalog/xml", killBillCatalogXml(catalog));
  if (xml.status === 201) done.push("catalog uploaded");
  else if (xml.status === 400 && xml.text.includes(`"code":${CATALOG_VERSION_EXISTS}`))
    done.push("catalog version already there");
  else throw fail("the catalog", xml);

  const overdue = await call("POST", "/1.0/kb/overdue/xml", killBillOverdueXml());
  if (overdue.status !== 201) throw fail("the overdue policy", overdue);
  done.push("overdue policy uploaded");

  const cb = await call(
    "POST",
    `/1.0/kb/tenants/registerNotificationCallback?cb=${encodeURIComponent(callbackUrl)}`,
  );
  if (cb.status !== 201) throw fail("the callback", cb);
  done.push(
    `notifications go to ${callbackUrl.replace(/\/webhooks\/killbill\/.*/, "/webhooks/killbill/***")}`,
  );
  return done;
}
