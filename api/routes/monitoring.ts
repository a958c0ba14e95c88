import { Router } from "express";
import { odooHealthPath } from "../../components/tenant/odoo-options";
import { bearerAuth, handle } from "./http";

export interface MonitoringDeps {
  /** MONITORING_TOKEN (else the admin token): what Prometheus presents, and all it may do. */
  token: string;
  probedTenants: () => Promise<{ tenantId: string; url: string; odooVersion: string }[]>;
  /** Alertmanager's heartbeat (monitoring-watch.ts); undefined where nothing is watched. */
  heartbeat?: () => Promise<void>;
}

/**
 * What Prometheus reads from the API besides /metrics: the tenants its blackbox exporter probes,
 * in Prometheus's HTTP service discovery format (a list of target groups), so a new tenant is
 * probed from the next refresh on and a deleted or suspended one drops out. And where
 * Alertmanager's heartbeat arrives (its webhook; the body, its alerts, is not needed).
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
  r.post(
    "/monitoring/heartbeat",
    handle(async (_req, res) => {
      if (!d.heartbeat) {
        res.status(404).json({
          error: "this API watches no monitoring (MONITORING_SILENCE_SECONDS is not set)",
        });
        return;
      }
      await d.heartbeat();
      res.status(204).end();
    }),
  );
  return r;
}
