import { Resolver } from "node:dns/promises";
import { OWNERSHIP_RECORD_PREFIX } from "../domain/custom-domain";

/**
 * Whether a customer's domain may be attached, from DNS: every address it resolves to (A and
 * AAAA, through CNAMEs) is one of the platform's public addresses, so the edge serves it and
 * can get its certificate; and a TXT record `_odoo-saas-challenge.<domain>` holds the claim's
 * token, which only the domain's owner can publish. Pointing alone is not enough: a domain whose
 * owner points it at the platform before attaching it could otherwise be claimed by any tenant.
 */
export class DomainVerifier {
  constructor(
    private readonly o: {
      /** The platform's public addresses (PLATFORM_PUBLIC_ADDRESSES). */
      platformAddresses: string[];
      /** DNS servers to ask (`host` or `host:port`); the system's by default. */
      dnsServers?: string[];
      timeoutMs?: number;
    },
  ) {}

  /** Null when the domain may be attached; otherwise why not, in words for the operator. */
  async check(domain: string, token: string): Promise<string | null> {
    // A resolver per check: c-ares (1.23+) caches answers, negative ones too, per resolver, and a
    // customer who asks before publishing the records would otherwise wait out that cache.
    const resolver = new Resolver({ timeout: this.o.timeoutMs ?? 3000, tries: 2 });
    if (this.o.dnsServers?.length) resolver.setServers(this.o.dnsServers);
    const addresses = [
      ...new Set([
        ...(await this.lookup(() => resolver.resolve4(domain))),
        ...(await this.lookup(() => resolver.resolve6(domain))),
      ]),
    ];
    if (addresses.length === 0)
      return `${domain} does not resolve (no A or AAAA record): point it at ${this.o.platformAddresses.join(", ")}`;
    const elsewhere = addresses.filter((a) => !this.o.platformAddresses.includes(a));
    if (elsewhere.length > 0)
      return `${domain} resolves to ${elsewhere.join(", ")}, not to the platform (${this.o.platformAddresses.join(", ")})`;
    const name = `${OWNERSHIP_RECORD_PREFIX}.${domain}`;
    const records = (await this.lookup(() => resolver.resolveTxt(name))).map((r) => r.join(""));
    if (!records.includes(token))
      return records.length === 0
        ? `no TXT record ${name}: publish the claim's token there`
        : `the TXT record ${name} does not hold the claim's token`;
    return null;
  }

  /** Records of a name, none when it has none; a failing server is an error. */
  private async lookup<T>(query: () => Promise<T[]>): Promise<T[]> {
    try {
      return await query();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTFOUND" || code === "ENODATA") return [];
      throw new Error(`DNS lookup failed (${code ?? (e as Error).message})`);
    }
  }
}
