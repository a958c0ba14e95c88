import express, { Router } from "express";
import { formatIssues } from "../../catalog";
import { HttpError } from "./http";
import { handle, safeEqual } from "./http";
import type { Queues } from "../jobs/queues";
import { KILLBILL_EVENT_TYPES, notificationSchema } from "../killbill/notification";
import type { Logger } from "../common/logger";
import type { Metrics } from "../common/metrics";
import type { InboxStore } from "../store/inbox-store";

export interface WebhookDeps {
  /** The path secrets accepted: the current one, and the previous one while a rotation runs. */
  secrets: string[];
  bodyLimit: string;
  inbox: InboxStore;
  queues: Queues;
  metrics: Metrics;
  logger: Logger;
}

/**
 * POST /webhooks/killbill/:secret. Kill Bill signs nothing, so the path secret is checked first
 * (constant time; a wrong one is a bare 404 and nothing is read or stored). A valid body is
 * stored in the inbox and answered 200 at once: Kill Bill gives up after 15 s and retries.
 */
export function webhookRoutes(d: WebhookDeps): Router {
  const router = Router();
  router.post(
    "/webhooks/killbill/:secret",
    (req, _res, next) => {
      const given = String(req.params.secret);
      // Every secret is compared (no early exit), so timing says nothing about which one matched.
      const matches = d.secrets.map((secret) => safeEqual(given, secret));
      if (!matches.includes(true)) {
        d.metrics.webhooks.inc({ event_type: "unknown", result: "unauthorized" });
        return next(new HttpError(404, "not_found", "not found"));
      }
      next();
    },
    // Any content type: Kill Bill sends application/json; charset=UTF-8, proxies sometimes less.
    express.json({ limit: d.bodyLimit, strict: true, type: () => true }),
    handle(async (req, res) => {
      const parsed = notificationSchema.safeParse(req.body);
      if (!parsed.success) {
        d.metrics.webhooks.inc({ event_type: "invalid", result: "rejected" });
        throw new HttpError(400, "invalid", "not a Kill Bill notification", {
          problems: formatIssues(parsed.error).split("\n"),
        });
      }
      const n = parsed.data;
      const id = await d.inbox.add({
        eventType: n.eventType,
        objectType: n.objectType,
        objectId: n.objectId,
        accountId: n.accountId,
        body: { ...n },
      });
      // Label values stay bounded: Kill Bill's 30 known types, anything else counted as OTHER.
      const known = (KILLBILL_EVENT_TYPES as readonly string[]).includes(n.eventType);
      d.metrics.webhooks.inc({ event_type: known ? n.eventType : "OTHER", result: "stored" });
      res.status(200).json({ received: id });
      // After the answer: if Redis is down the sweeper finds the stored event later.
      d.queues
        .enqueueInbox(id)
        .catch((err) => d.logger.warn({ err, inboxId: id }, "inbox job not queued"));
    }),
  );
  return router;
}
