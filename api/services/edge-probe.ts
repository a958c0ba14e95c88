import { waitForRoute } from "../../automation/route-health";
import { odooHealthPath } from "../../components/tenant/odoo-options";

/**
 * Whether a tenant answers through the edge (Traefik), the way its customer reaches it: a tenant
 * counts as converged, and its customer is told it is ready, only once it does.
 */
export class EdgeProbe {
  constructor(
    private readonly o: {
      /** `direct`, `off`, or the origin the router is reached at from here. */
      mode: string;
      timeoutMs: number;
    },
  ) {}

  /** Resolves once the tenant at `url` answers 2xx on its health path; throws after the timeout. */
  async answering(url: string, odooVersion: string, signal?: AbortSignal): Promise<void> {
    if (this.o.mode === "off") return;
    await waitForRoute({
      url,
      path: odooHealthPath(odooVersion),
      via: this.o.mode === "direct" ? undefined : this.o.mode,
      timeoutMs: this.o.timeoutMs,
      signal,
    });
  }
}
