import { createHash } from "node:crypto";
import { DNS_LABEL, RESERVED_SUBDOMAINS } from "../../components/tenant/names";

/** A Kill Bill value that cannot name a tenant: refused visibly (a billing problem), never guessed. */
export interface IdentityProblem {
  problem: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant id a bundle stands for: its external key, trimmed and lower-cased. A bundle created
 * without an external key gets its own UUID as key from Kill Bill: that names no tenant.
 */
export function tenantIdFromBundle(
  externalKey: string | null | undefined,
  bundleId: string,
): string | IdentityProblem {
  const key = (externalKey ?? "").trim().toLowerCase();
  if (!key || key === bundleId.toLowerCase() || UUID.test(key))
    return { problem: "the bundle has no external key (it should be the tenant id)" };
  if (key.length < 3 || key.length > 40 || !DNS_LABEL.test(key))
    return {
      problem: `bundle external key "${externalKey}" is not a tenant id (3-40 lower-case letters, digits and inner dashes)`,
    };
  if (RESERVED_SUBDOMAINS.has(key))
    return { problem: `bundle external key "${externalKey}" is reserved by the platform` };
  return key;
}

const MAX_CUSTOMER_ID = 40;

/**
 * The customer id of an account: its external key (commonly an e-mail address) made into lower-case
 * letters, digits, `_` and `-`; the account id when it has none. Longer than 40 characters, it is
 * cut and a digest of the whole key appended, so two keys never share an id by truncation.
 */
export function customerIdFromAccount(externalKey: string | null | undefined, accountId: string) {
  const source = (externalKey ?? "").trim() || accountId;
  const lower = source.toLowerCase();
  const id = lower.replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|[-_]+$/g, "");
  if (id && id === lower && id.length <= MAX_CUSTOMER_ID) return id;
  // Changed or cut: a digest of the original keeps different keys apart.
  const stem = id.slice(0, MAX_CUSTOMER_ID - 9).replace(/[-_]+$/, "") || "customer";
  return `${stem}-${digest(source)}`;
}

const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 8);
