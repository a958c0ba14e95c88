import { randomBytes } from "node:crypto";
import { checkCustomDomain, OWNERSHIP_RECORD_PREFIX } from "../domain/custom-domain";
import { ConflictError, NotFoundError, ValidationError } from "../common/errors";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { TenantDomain, TenantDomainStore } from "../store/tenant-domain-store";
import type { DomainVerifier } from "./domain-verifier";
import type { TenantService } from "./tenant-service";

/** A claim as the admin API shows it, with what the customer has to publish. */
export interface DomainClaimView extends TenantDomain {
  instructions: {
    /** A (or AAAA) records of the domain: only these addresses. */
    pointTo: string[];
    /** The TXT record that proves the domain is the customer's. */
    txt: { name: string; value: string };
  };
}

/**
 * Customers' own domains: claimed by one tenant, attached to its routes (its spec's
 * `customDomains`, then a reconcile) only once DNS shows they point at the platform and are the
 * customer's, detached when released. A domain held by another tenant, or one of the platform's
 * own names, is refused with no change to anyone.
 */
export class TenantDomains {
  constructor(
    private readonly d: {
      store: TenantDomainStore;
      verifier?: DomainVerifier;
      tenants: TenantService;
      /** One domain change of a tenant at a time (its spec's list is read and written). */
      locks: AdvisoryLocks;
      platformAddresses: string[];
      /** The platform's base domain (its tenant settings); undefined while unreadable. */
      baseDomain: () => Promise<string | undefined>;
    },
  ) {}

  async list(tenantId: string): Promise<DomainClaimView[]> {
    await this.d.tenants.get(tenantId);
    return (await this.d.store.list(tenantId)).map((c) => this.view(c));
  }

  async claim(
    tenantId: string,
    input: string,
  ): Promise<{ created: boolean; claim: DomainClaimView }> {
    const tenant = await this.d.tenants.get(tenantId);
    if (tenant.desiredState === "deleted") throw new ConflictError(`tenant ${tenantId} is deleted`);
    const domain = await this.normalized(input);
    const token = randomBytes(18).toString("base64url");
    const r = await this.d.store.claim(tenantId, domain, token);
    if ("heldBy" in r)
      throw new ConflictError(`${domain} is already claimed by tenant ${r.heldBy}`, {
        domain,
        tenant: r.heldBy,
      });
    return { created: r.claim.token === token, claim: this.view(r.claim) };
  }

  /** Checks DNS now: verified and attached, or refused (422) with the reason, which is kept. */
  async verify(tenantId: string, input: string): Promise<DomainClaimView> {
    const domain = await this.normalized(input);
    const claim = await this.claimOf(tenantId, domain);
    if (!this.d.verifier || this.d.platformAddresses.length === 0)
      throw new ConflictError(
        "custom domains cannot be verified: the platform's public addresses are not configured (PLATFORM_PUBLIC_ADDRESSES)",
      );
    const reason = await this.d.verifier.check(domain, claim.token).catch((e: Error) => e.message);
    const checked = await this.d.store.checked(domain, tenantId, reason);
    if (reason)
      throw new ValidationError(`${domain} is not verified: ${reason}`, {
        claim: this.view(checked),
      });
    await this.attachVerified(tenantId);
    return this.view(checked);
  }

  /** Releases the claim; a verified domain leaves the tenant's routes at the next reconcile. */
  async release(tenantId: string, input: string): Promise<void> {
    const domain = await this.normalized(input);
    const claim = await this.claimOf(tenantId, domain);
    await this.d.store.release(domain, tenantId);
    if (claim.status === "verified") await this.attachVerified(tenantId);
  }

  /** The tenant's spec serves exactly its verified domains. */
  private attachVerified(tenantId: string) {
    return this.d.locks.withLock(tenantId, async () =>
      this.d.tenants.setCustomDomains(tenantId, await this.d.store.verified(tenantId)),
    );
  }

  private async claimOf(tenantId: string, domain: string): Promise<TenantDomain> {
    await this.d.tenants.get(tenantId);
    const claim = await this.d.store.get(domain);
    if (!claim || claim.tenantId !== tenantId)
      throw new NotFoundError(`domain ${domain} of tenant ${tenantId}`);
    return claim;
  }

  private async normalized(input: string): Promise<string> {
    const base = await this.d.baseDomain();
    if (!base)
      throw new ConflictError(
        "the platform's settings are not readable: its base domain is unknown",
      );
    const c = checkCustomDomain(input, base);
    if (!c.ok)
      throw new ValidationError(`${JSON.stringify(input)} cannot be a custom domain: ${c.reason}`);
    return c.domain;
  }

  private view(c: TenantDomain): DomainClaimView {
    return {
      ...c,
      instructions: {
        pointTo: this.d.platformAddresses,
        txt: { name: `${OWNERSHIP_RECORD_PREFIX}.${c.domain}`, value: c.token },
      },
    };
  }
}
