import express from "express";
import request from "supertest";
import { createMetrics } from "../common/metrics";
import { errorHandler } from "./http";
import { createLogger } from "../common/logger";
import type { InboxStore } from "../store/inbox-store";
import type { Queues } from "../jobs/queues";
import { webhookRoutes } from "./webhooks";

describe("the webhook's path secret during a rotation", () => {
  const logger = createLogger("silent");
  const app = express();
  app.use(
    webhookRoutes({
      secrets: ["current-secret-0123456789", "previous-secret-0123456789"],
      bodyLimit: "64kb",
      // A malformed body is refused before anything is stored: nothing else is needed here.
      inbox: {} as InboxStore,
      queues: {} as Queues,
      metrics: createMetrics(),
      logger,
    }),
  );
  app.use(errorHandler(logger));

  it.each([
    ["the current secret", "current-secret-0123456789", 400],
    ["the previous one (Kill Bill not yet re-pointed)", "previous-secret-0123456789", 400],
    ["any other", "current-secret-012345678", 404],
    ["none of them concatenated", "current-secret-0123456789previous-secret-0123456789", 404],
  ])("%s -> %d", async (_name, secret, status) => {
    const res = await request(app).post(`/webhooks/killbill/${secret}`).send({ eventType: 1 });
    expect(res.status).toBe(status);
  });
});
