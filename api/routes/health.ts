import { Router } from "express";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import { handle } from "./http";
import type { Metrics } from "../common/metrics";
import { openApiDocument } from "./openapi";

export interface HealthDeps {
  pool: Pool;
  redis: Redis;
  metrics: Metrics;
  /** Resolves when the Pulumi CLI answers (its version). */
  pulumiVersion: () => Promise<string>;
}

export function healthRoutes(d: HealthDeps): Router {
  const r = Router();
  const document = openApiDocument();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get(
    "/readyz",
    handle(async (_req, res) => {
      const check = async (fn: () => Promise<unknown>) => {
        try {
          await Promise.race([
            fn(),
            new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 3000)),
          ]);
          return "ok";
        } catch (e) {
          return `failing: ${(e as Error).message.split("\n")[0]}`;
        }
      };
      const checks = {
        postgres: await check(() => d.pool.query("SELECT 1")),
        redis: await check(() => d.redis.ping()),
        pulumi: await check(() => d.pulumiVersion()),
      };
      const ready = Object.values(checks).every((c) => c === "ok");
      res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks });
    }),
  );
  r.get(
    "/metrics",
    handle(async (_req, res) => {
      res.setHeader("Content-Type", d.metrics.registry.contentType);
      res.send(await d.metrics.registry.metrics());
    }),
  );
  r.get("/openapi.json", (_req, res) => {
    res.json(document);
  });
  return r;
}
