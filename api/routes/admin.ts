import { Router } from "express";
import { NotFoundError } from "../common/errors";
import { bearerAuth, handle, parse } from "./http";
import type { OperationEvent, ProgressBus } from "../jobs/progress-bus";
import {
  listTenantsQuery,
  moveBody,
  nodeParam,
  createTenantBody,
  deleteQuery,
  exportQuery,
  operationIdParam,
  planChangeBody,
  restoreBody,
  tenantIdParam,
  domainBody,
  domainParam,
  usageCorrectionBody,
  usageDayParam,
  usageQuery,
} from "./schemas";
import type { UsageUnit } from "../../catalog";
import type { TenantDomains } from "../services/tenant-domains";
import type { TenantCertificates } from "../services/tenant-certificates";
import { decodeCursor, type TenantService } from "../services/tenant-service";
import type { OperationStore } from "../store/operation-store";

export interface AdminDeps {
  token: string;
  service: TenantService;
  operations: OperationStore;
  progress: ProgressBus;
  /** Customers' own domains of each tenant. */
  domains: TenantDomains;
  /** What the edge serves for each of a tenant's hosts, and why a certificate was refused. */
  certificates: TenantCertificates;
  /** The restore drills: the latest ones, and a run now besides the daily one. */
  drills: { list: () => Promise<unknown[]>; runNow: () => Promise<void> };
  /** Metered usage: a tenant's, an operator's correction of a day, a run now. */
  usage: {
    view: (id: string, from?: string, to?: string) => Promise<unknown>;
    correct: (
      id: string,
      c: { unit: UsageUnit; day: string; amount: number; by: string },
    ) => Promise<unknown>;
    runNow: () => Promise<void>;
  };
}

/** The admin API: bearer token, zod on every input, one service call per route. */
export function adminRoutes(d: AdminDeps): Router {
  const r = Router();
  r.use("/admin", bearerAuth(d.token));
  const id = (params: unknown) => parse(tenantIdParam, params).id;
  const accepted = async (
    res: import("express").Response,
    tenant: Parameters<TenantService["view"]>[0],
  ) => res.status(202).json(await d.service.view(tenant));

  r.get(
    "/admin/restore-drills",
    handle(async (_req, res) => {
      res.json(await d.drills.list());
    }),
  );
  r.post(
    "/admin/restore-drills",
    handle(async (_req, res) => {
      await d.drills.runNow();
      res.status(202).json({ queued: "restore-drills" });
    }),
  );

  r.post(
    "/admin/usage-metering",
    handle(async (_req, res) => {
      await d.usage.runNow();
      res.status(202).json({ queued: "usage-metering" });
    }),
  );
  r.get(
    "/admin/tenants/:id/usage",
    handle(async (req, res) => {
      const q = parse(usageQuery, req.query);
      res.json(await d.usage.view(id(req.params), q.from, q.to));
    }),
  );
  r.post(
    "/admin/tenants/:id/usage/:day",
    handle(async (req, res) => {
      const { day } = parse(usageDayParam, { day: req.params.day });
      const c = parse(usageCorrectionBody, req.body ?? {});
      res.json(
        await d.usage.correct(id(req.params), {
          unit: c.unit,
          day,
          amount: c.amount,
          by: c.reason,
        }),
      );
    }),
  );

  r.get(
    "/admin/tenants",
    handle(async (req, res) => {
      const q = parse(listTenantsQuery, req.query);
      res.json(
        await d.service.list({
          limit: q.limit,
          after: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
          state: q.state,
          plan: q.plan,
          lagging: q.lagging === "true",
          failed: q.failed === "true",
          drifted: q.drifted === "true",
        }),
      );
    }),
  );
  r.post(
    "/admin/tenants",
    handle(async (req, res) =>
      accepted(res, await d.service.create(parse(createTenantBody, req.body))),
    ),
  );
  r.get(
    "/admin/tenants/:id",
    handle(async (req, res) => res.json(await d.service.view(await d.service.get(id(req.params))))),
  );
  r.delete(
    "/admin/tenants/:id",
    handle(async (req, res) =>
      accepted(
        res,
        await d.service.remove(id(req.params), {
          skipBackup: parse(deleteQuery, req.query).skipBackup === "true",
        }),
      ),
    ),
  );
  r.get(
    "/admin/tenants/:id/billing-transitions",
    handle(async (req, res) => res.json(await d.service.billingTransitions(id(req.params)))),
  );
  r.get(
    "/admin/tenants/:id/domains",
    handle(async (req, res) => res.json(await d.domains.list(id(req.params)))),
  );
  r.post(
    "/admin/tenants/:id/domains",
    handle(async (req, res) => {
      const { domain } = parse(domainBody, req.body ?? {});
      const { created, claim } = await d.domains.claim(id(req.params), domain);
      res.status(created ? 201 : 200).json(claim);
    }),
  );
  r.post(
    "/admin/tenants/:id/domains/:domain/verify",
    handle(async (req, res) => {
      const { domain } = parse(domainParam, req.params);
      res.json(await d.domains.verify(id(req.params), domain));
    }),
  );
  r.delete(
    "/admin/tenants/:id/domains/:domain",
    handle(async (req, res) => {
      const { domain } = parse(domainParam, req.params);
      await d.domains.release(id(req.params), domain);
      res.status(202).json({ released: domain });
    }),
  );
  r.get(
    "/admin/tenants/:id/certificates",
    handle(async (req, res) => res.json(await d.certificates.of(id(req.params)))),
  );
  r.get(
    "/admin/tenants/:id/backups",
    handle(async (req, res) => {
      const tenant = await d.service.get(id(req.params));
      res.json(await d.service.backups.list(tenant.id));
    }),
  );
  r.post(
    "/admin/tenants/:id/backups",
    handle(async (req, res) =>
      res.status(202).json(await d.service.backups.requestBackup(id(req.params))),
    ),
  );
  r.post(
    "/admin/tenants/:id/restore",
    handle(async (req, res) =>
      res
        .status(202)
        .json(
          await d.service.backups.requestRestore(
            id(req.params),
            parse(restoreBody, req.body ?? {}),
          ),
        ),
    ),
  );
  r.post(
    "/admin/tenants/:id/move",
    handle(async (req, res) => {
      const { node, fromBackup } = parse(moveBody, req.body ?? {});
      res.status(202).json(await d.service.moves.request(id(req.params), node, { fromBackup }));
    }),
  );
  r.post(
    "/admin/nodes/:node/drain",
    handle(async (req, res) => {
      const { node } = parse(nodeParam, req.params);
      const status = await d.service.drain.drain(node);
      res.status(status.availability === "drain" ? 200 : 202).json(status);
    }),
  );
  // Odoo's backup format (manifest.json, dump.sql, filestore/), zipped while it streams.
  r.get(
    "/admin/tenants/:id/export",
    handle(async (req, res) => {
      const tenantId = id(req.params);
      const { filename, stream } = await d.service.exports.exportZip(
        tenantId,
        parse(exportQuery, req.query).backup,
      );
      res.writeHead(200, {
        "Content-Type": "application/zip",
        "Content-Disposition": `attachment; filename="${filename}"`,
      });
      stream.on("error", () => res.destroy());
      res.on("close", () => stream.destroy());
      stream.pipe(res);
    }),
  );
  r.post(
    "/admin/tenants/:id/plan",
    handle(async (req, res) =>
      accepted(
        res,
        await d.service.changePlan(id(req.params), parse(planChangeBody, req.body).plan),
      ),
    ),
  );
  r.post(
    "/admin/tenants/:id/suspend",
    handle(async (req, res) => accepted(res, await d.service.suspend(id(req.params)))),
  );
  r.post(
    "/admin/tenants/:id/resume",
    handle(async (req, res) => accepted(res, await d.service.resume(id(req.params)))),
  );
  r.post(
    "/admin/tenants/:id/drift",
    handle(async (req, res) => accepted(res, await d.service.checkDrift(id(req.params)))),
  );
  r.post(
    "/admin/tenants/:id/reconcile",
    handle(async (req, res) => accepted(res, await d.service.reconcile(id(req.params)))),
  );
  r.get(
    "/admin/billing/problems",
    handle(async (_req, res) => res.json(await d.service.billingProblems())),
  );
  r.post(
    "/admin/billing/resync",
    handle(async (_req, res) => res.json(await d.service.resyncBilling())),
  );
  r.post(
    "/admin/tenants/:id/preview",
    handle(async (req, res) => res.json(await d.service.preview(id(req.params)))),
  );

  r.get(
    "/admin/operations/:id",
    handle(async (req, res) => {
      const op = await d.operations.get(parse(operationIdParam, req.params).id);
      if (!op) throw new NotFoundError("operation");
      res.json(op);
    }),
  );

  // Server-Sent Events: what happened so far, then live events until the operation finishes.
  r.get(
    "/admin/operations/:id/events",
    handle(async (req, res) => {
      const opId = parse(operationIdParam, req.params).id;
      const op = await d.operations.get(opId);
      if (!op) throw new NotFoundError("operation");
      res.writeHead(200, {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        Connection: "keep-alive",
      });
      let ended = false;
      const send = (e: OperationEvent) => {
        if (ended) return;
        res.write(`event: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`);
        if (e.kind === "operation-finished") finish();
      };
      // A comment line now and then keeps proxies from closing a quiet stream.
      const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15000);
      let unfollow = () => {};
      const stop = () => {
        ended = true;
        clearInterval(keepAlive);
        unfollow();
      };
      const finish = () => {
        stop();
        res.end();
      };
      req.on("close", stop);
      unfollow = await d.progress.follow(opId, send);
      if (ended) unfollow(); // the client left while we subscribed
      const seen = await d.progress.history(opId);
      seen.forEach(send);
      const current = await d.operations.get(opId);
      if (
        !ended &&
        current &&
        current.status !== "running" &&
        !seen.some((e) => e.kind === "operation-finished")
      )
        send({
          kind: "operation-finished",
          status: current.status === "succeeded" ? "succeeded" : "failed",
          error: current.error ?? undefined,
        });
    }),
  );
  return r;
}
