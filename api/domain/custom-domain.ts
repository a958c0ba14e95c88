import { domainToASCII } from "node:url";
import { isIP } from "node:net";

/** Where a tenant's customer proves a domain is theirs: a TXT record at this name holds the token. */
export const OWNERSHIP_RECORD_PREFIX = "_odoo-saas-challenge";

/** Why a name cannot be a tenant's custom domain, or its normalized (ASCII, lower-case) form. */
export type DomainCheck = { ok: true; domain: string } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A customer's own domain as the platform stores and routes it: IDN to ASCII, lower case, no
 * trailing dot. Refused: what is not a host name (IP literals, wildcards, single labels, ports,
 * paths), and the platform's own names: its base domain and everything under it (tenants'
 * subdomains, `api`, `kaui`, and any name the platform may give later).
 */
export function checkCustomDomain(input: string, baseDomain: string): DomainCheck {
  const raw = input.trim().replace(/\.$/, "");
  if (raw === "") return { ok: false, reason: "empty" };
  if (isIP(raw) || isIP(raw.replace(/^\[|\]$/g, "")))
    return { ok: false, reason: "an IP address, not a domain name" };
  if (raw.includes("*")) return { ok: false, reason: "a wildcard: name each host" };
  if (/[/:@?#\s]/.test(raw))
    return { ok: false, reason: "a host name only (no scheme, port or path)" };
  const domain = domainToASCII(raw.toLowerCase());
  if (!domain) return { ok: false, reason: "not a valid domain name" };
  const labels = domain.split(".");
  if (labels.length < 2) return { ok: false, reason: "a single label: use a full domain name" };
  if (domain.length > 253 || !labels.every((l) => LABEL.test(l)))
    return { ok: false, reason: "not a valid domain name" };
  if (/^\d+$/.test(labels[labels.length - 1]))
    return { ok: false, reason: "not a valid domain name" };
  const base = baseDomain.toLowerCase().replace(/\.$/, "");
  if (domain === base || domain.endsWith(`.${base}`))
    return { ok: false, reason: `one of the platform's own names (${base} and its subdomains)` };
  return { ok: true, domain };
}
