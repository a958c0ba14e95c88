import { Router } from "express";
import { odooHealthPath } from "../../components/tenant/odoo-options";
import { bearerAuth, handle } from "./http";

export interface MonitoringDeps {
  /** MONITORING_TOKEN (else the admin token): what Prometheus presents, and all it may do. */
  token: string;
  probedTenants: () => Promise<{ tenantId: string; url: string; odooVersion: string }[]>;
}

/**
 * What Prometheus reads from the API besides /metrics: the tenants its blackbox exporter probes,
 * in Prometheus's HTTP service discovery format (a list of target groups), so a new tenant is
 * probed from the next refresh on and a deleted or suspended one drops out.
 */
export function monitoringRoutes(d: MonitoringDeps): Router {
  const r = Router();
  r.use("/monitoring", bearerAuth(d.token));
  r.get(
    "/monitoring/tenant-targets",
    handle(async (_req, res) => {
      res.json(
        (await d.probedTenants()).map((t) => ({
          targets: [`${t.url.replace(/\/$/, "")}${odooHealthPath(t.odooVersion)}`],
          labels: { tenant: t.tenantId },
        })),
      );
    }),
  );
  return r;
}
