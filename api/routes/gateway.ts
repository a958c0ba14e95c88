import { createHash } from "node:crypto";
import { Router, type RequestHandler } from "express";
import { z } from "zod";
import { HttpError, handle, parse, safeEqual } from "./http";

export interface GatewayDeps {
  /** The hash of the token a tenant's gateway presents (its stack's output); undefined: none. */
  tokenHashOf: (tenantId: string) => Promise<string | undefined>;
  wake: (tenantId: string) => Promise<boolean>;
  recordActivity: (tenantId: string) => Promise<void>;
}

const activity = z.strictObject({ websockets: z.number().int().min(0) });

/**
 * What tenants' gateways ask of the API (images/tenant-gateway): wake their tenant, and record
 * that it is in use. Each gateway presents a token of its own tenant's, so a gateway can act for
 * its tenant only; an unknown tenant and a wrong token are the same 401.
 */
export function gatewayRoutes(d: GatewayDeps): Router {
  const r = Router();
  const ownToken: RequestHandler = (req, _res, next) => {
    const header = req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : "";
    d.tokenHashOf(String(req.params.id)).then((hash) => {
      const presented = createHash("sha256").update(given).digest("hex");
      if (!given || !hash || !safeEqual(presented, hash))
        return next(new HttpError(401, "unauthorized", "missing or wrong gateway token"));
      next();
    }, next);
  };
  r.post(
    "/gateway/tenants/:id/wake",
    ownToken,
    handle(async (req, res) => {
      const woken = await d.wake(String(req.params.id));
      res.status(woken ? 202 : 200).json({ woken });
    }),
  );
  r.post(
    "/gateway/tenants/:id/activity",
    ownToken,
    handle(async (req, res) => {
      parse(activity, req.body ?? {});
      await d.recordActivity(String(req.params.id));
      res.status(204).end();
    }),
  );
  return r;
}
