import type { Catalog } from "../../catalog";
import { sharedPostgresAdmits } from "../../components/platform/shared-postgres-capacity";
import type { Logger } from "../logger";
import type { TenantStore } from "../store/tenant-store";

/**
 * Admission to the shared PostgreSQL server: a tenant is created on a shared plan, or moved to
 * one with a larger connection limit, only while the server's max_connections has room for every
 * tenant's limit. Where the limit cannot be read (no platform stack yet), nothing is refused.
 */
export class SharedDatabaseCapacity {
  private warned = false;

  constructor(
    private readonly d: {
      tenants: TenantStore;
      catalog: Catalog;
      /** The server's max_connections (config, else the platform stack's output). */
      maxConnections: () => Promise<number | undefined>;
      logger: Logger;
    },
  ) {}

  /** Why `tenantId` may not be on `plan`, or undefined when it may. */
  async refusal(change: { tenantId: string; plan: string }): Promise<string | undefined> {
    const max = await this.d.maxConnections().catch(() => undefined);
    if (max === undefined) {
      if (!this.warned)
        this.d.logger.warn("shared PostgreSQL max_connections unknown: admission not checked");
      this.warned = true;
      return undefined;
    }
    const held = (await this.d.tenants.list())
      .filter((t) => t.desiredState !== "deleted")
      .map((t) => ({ id: t.id, plan: t.spec.plan }));
    const verdict = sharedPostgresAdmits(this.d.catalog, max, held, change);
    return verdict.ok ? undefined : verdict.reason;
  }
}
