import { Pool } from "pg";
import type { UpOutcome } from "../automation/stack-runner";
import { AdvisoryLocks } from "../api/store/advisory-locks";
import { TenantStore } from "../api/store/tenant-store";

/**
 * The API's store as a fleet command sees it: the fingerprints stacks were applied with, and a
 * way to apply a stack from outside the API that keeps the store's fingerprint honest.
 */
export class FleetStore {
  private readonly tenants: TenantStore;
  private readonly locks: AdvisoryLocks;

  constructor(private readonly pool: Pool) {
    this.tenants = new TenantStore(pool);
    this.locks = new AdvisoryLocks(pool, "tenant");
  }

  /** Enough connections for `concurrency` runs, each holding a lock and writing. */
  static open(databaseUrl: string, concurrency = 1): FleetStore {
    return new FleetStore(new Pool({ connectionString: databaseUrl, max: concurrency * 2 + 1 }));
  }

  appliedFingerprints(): Promise<Map<string, string>> {
    return this.tenants.appliedFingerprints();
  }

  /**
   * Runs `up` under the tenant's lock (the API's reconciles and backups wait), with no
   * fingerprint on record while it runs: a run that fails or dies half-way leaves none, so the
   * API never skips a run on the strength of a stack this one may have changed.
   */
  async applying(tenantId: string, up: () => Promise<UpOutcome>): Promise<UpOutcome> {
    return this.locks.withLock(tenantId, async () => {
      await this.tenants.forgetFingerprint(tenantId);
      const result = await up();
      await this.tenants.recordStackOutputs(tenantId, result.outputs);
      return result;
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
