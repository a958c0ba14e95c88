import type { TenantStacks } from "../../automation";
import type { TenantBackups } from "../../backup/tenant-backups";
import type { Catalog } from "../../catalog";
import { NotFoundError } from "../common/errors";
import type { TenantStore } from "../store/tenant-store";
import { currentPlacement } from "./change-plan";
import type { UsageProbe } from "./usage-meter";

/**
 * Usage read by the backup agent where the tenant's data is (its database server, its volume's
 * node), as backups and drills are: Odoo is never involved, so a sleeping or suspended tenant is
 * measured as it is.
 */
export function agentUsageProbe(d: {
  tenants: TenantStore;
  stacks: TenantStacks;
  engine: TenantBackups;
  catalog: Catalog;
}): UsageProbe {
  return {
    async measure(tenantId, caps) {
      const t = await d.tenants.get(tenantId);
      if (!t) throw new NotFoundError(`tenant ${tenantId} not found`);
      const location = await d.stacks.dataLocation(t, currentPlacement(t, d.catalog));
      if (!location) throw new Error(`tenant ${tenantId}'s stack holds no database or filestore`);
      return d.engine.measure(location, caps);
    },
  };
}
