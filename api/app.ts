import express, { type Express } from "express";
import { HttpError } from "./routes/http";
import { errorHandler, requestId } from "./routes/http";
import type { Logger } from "./common/logger";
import { OutageLog } from "./common/outage";
import { adminRoutes, type AdminDeps } from "./routes/admin";
import { healthRoutes, type HealthDeps } from "./routes/health";
import { gatewayRoutes, type GatewayDeps } from "./routes/gateway";
import { monitoringRoutes, type MonitoringDeps } from "./routes/monitoring";
import { webhookRoutes, type WebhookDeps } from "./routes/webhooks";

export interface AppDeps {
  logger: Logger;
  webhooks: WebhookDeps;
  admin: AdminDeps;
  health: HealthDeps;
  monitoring: MonitoringDeps;
  gateway: GatewayDeps;
}

/** The HTTP app from its dependencies, so tests start the real thing over real HTTP. */
export function createApp(d: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(requestId());
  const outages = new OutageLog(d.logger);
  // A request answered without a 5xx ends an outage in progress (logged once, with its count).
  app.use((_req, res, next) => {
    res.on("finish", () => res.statusCode < 500 && outages.recovered());
    next();
  });
  app.use(webhookRoutes(d.webhooks));
  app.use(express.json({ limit: "256kb" }));
  app.use(healthRoutes(d.health));
  app.use(adminRoutes(d.admin));
  app.use(monitoringRoutes(d.monitoring));
  app.use(gatewayRoutes(d.gateway));
  app.use((_req, _res, next) => next(new HttpError(404, "not_found", "no such endpoint")));
  app.use(errorHandler(d.logger, outages));
  return app;
}
