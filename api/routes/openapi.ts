import { OpenAPIRegistry, OpenApiGeneratorV3 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import * as s from "./schemas";

/** The OpenAPI 3 document served at /openapi.json, built from the route schemas. */
export function openApiDocument() {
  const r = new OpenAPIRegistry();
  const bearer = r.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  const security = [{ [bearer.name]: [] }];
  const json = (schema: z.ZodType, description: string) => ({
    description,
    content: { "application/json": { schema } },
  });
  const errors = {
    400: json(s.errorView, "malformed request"),
    401: json(s.errorView, "missing or wrong bearer token"),
    404: json(s.errorView, "not found"),
    409: json(s.errorView, "conflict"),
    422: json(s.errorView, "invalid input"),
  };
  const tenantRoute = (
    method: "get" | "post" | "delete",
    path: string,
    summary: string,
    extra: object = {},
  ) =>
    r.registerPath({
      method,
      path,
      summary,
      security,
      request: { params: s.tenantIdParam },
      responses: {
        200: json(s.tenantView, "the tenant"),
        202: json(s.tenantView, "accepted: reconcile enqueued"),
        ...errors,
      },
      ...extra,
    });

  r.registerPath({
    method: "post",
    path: "/webhooks/killbill/{secret}",
    summary: "Kill Bill push notification (stored, answered at once, processed in the background)",
    request: {
      params: z.object({ secret: z.string().openapi({ param: { name: "secret", in: "path" } }) }),
      body: { content: { "application/json": { schema: s.webhookBody } } },
    },
    responses: {
      200: json(z.object({ received: z.string() }), "stored"),
      400: json(s.errorView, "malformed or invalid body"),
      404: json(s.errorView, "unknown callback"),
      413: json(s.errorView, "body too large"),
    },
  });
  r.registerPath({
    method: "get",
    path: "/admin/tenants",
    summary: "List tenants, a page at a time (in id order), with filters",
    security,
    request: { query: s.listTenantsQuery },
    responses: { 200: json(s.tenantPage, "a page of tenants"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/admin/tenants",
    summary: "Create a tenant directly (e.g. a trial without billing)",
    security,
    request: { body: { content: { "application/json": { schema: s.createTenantBody } } } },
    responses: { 202: json(s.tenantView, "created; reconcile enqueued"), ...errors },
  });
  tenantRoute("get", "/admin/tenants/{id}", "Get a tenant");
  tenantRoute(
    "delete",
    "/admin/tenants/{id}",
    "Delete a tenant (a final verified backup, then its stack is destroyed); 409 while a Kill Bill subscription bills it",
    { request: { params: s.tenantIdParam, query: s.deleteQuery } },
  );
  const operationAccepted = {
    202: json(z.object({ id: z.string(), status: z.string() }).passthrough(), "operation queued"),
    ...errors,
  };
  r.registerPath({
    method: "get",
    path: "/admin/tenants/{id}/billing-transitions",
    summary: "The tenant's billing status transitions (oldest first), each with its cause",
    security,
    request: { params: s.tenantIdParam },
    responses: { 200: json(z.array(s.billingTransitionView), "transitions"), ...errors },
  });
  r.registerPath({
    method: "get",
    path: "/admin/restore-drills",
    summary:
      "The latest restore drills (newest first): each backup restored into scratch, what was checked, or why it failed",
    security,
    responses: { 200: json(z.array(z.object({}).passthrough()), "restore drills"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/admin/restore-drills",
    summary: "Run the restore drill now (the next tenants in turn), besides its daily schedule",
    security,
    responses: {
      202: json(z.object({ queued: z.literal("restore-drills") }), "queued"),
      ...errors,
    },
  });
  r.registerPath({
    method: "get",
    path: "/admin/tenants/{id}/usage",
    summary:
      "The tenant's metered usage: its plan's allowance, the last measurement (or why it failed), caps passed, and each day's peak with what Kill Bill was told",
    security,
    request: { params: s.tenantIdParam, query: s.usageQuery },
    responses: { 200: json(z.object({}).passthrough(), "usage"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/admin/tenants/{id}/usage/{day}",
    summary:
      "Correct a day Kill Bill does not have: one still to send goes with the new amount; one too late is acknowledged (billed by hand). A recorded day: 409",
    security,
    request: {
      params: s.tenantIdParam.merge(s.usageDayParam),
      body: { content: { "application/json": { schema: s.usageCorrectionBody } } },
    },
    responses: { 200: json(z.object({}).passthrough(), "the corrected day"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/admin/usage-metering",
    summary: "Measure every tenant and send the closed days to Kill Bill now, besides the schedule",
    security,
    responses: {
      202: json(z.object({ queued: z.literal("usage-metering") }), "queued"),
      ...errors,
    },
  });
  r.registerPath({
    method: "get",
    path: "/admin/tenants/{id}/certificates",
    summary:
      "The certificate the edge serves for each of the tenant's hosts, and why the CA refused one",
    security,
    request: { params: s.tenantIdParam },
    responses: { 200: json(s.tenantCertificatesView, "certificates"), ...errors },
  });
  const claim = z.object({}).passthrough();
  r.registerPath({
    method: "get",
    path: "/admin/tenants/{id}/domains",
    summary: "The tenant's custom domains: pending or verified, with what the customer publishes",
    security,
    request: { params: s.tenantIdParam },
    responses: { 200: json(z.array(claim), "domain claims"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/admin/tenants/{id}/domains",
    summary:
      "Claim a customer's domain for the tenant (409 when another tenant holds it; the platform's own names are refused)",
    security,
    request: {
      params: s.tenantIdParam,
      body: { content: { "application/json": { schema: s.domainBody } } },
    },
    responses: {
      201: json(claim, "claimed: point it at the platform and publish the TXT token"),
      200: json(claim, "already claimed by this tenant"),
      ...errors,
    },
  });
  r.registerPath({
    method: "post",
    path: "/admin/tenants/{id}/domains/{domain}/verify",
    summary:
      "Check DNS now: verified and attached to the tenant's routes, or 422 with the reason (kept on the claim)",
    security,
    request: { params: s.domainParam },
    responses: { 200: json(claim, "verified and attached"), ...errors },
  });
  r.registerPath({
    method: "delete",
    path: "/admin/tenants/{id}/domains/{domain}",
    summary: "Release the domain: the tenant's routes stop serving it at the next reconcile",
    security,
    request: { params: s.domainParam },
    responses: { 202: json(z.object({ released: z.string() }), "released"), ...errors },
  });
  r.registerPath({
    method: "get",
    path: "/admin/tenants/{id}/backups",
    summary: "The tenant's backups (newest first), with size, duration and verification",
    security,
    request: { params: s.tenantIdParam },
    responses: { 200: json(z.array(z.object({}).passthrough()), "backups"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/admin/tenants/{id}/backups",
    summary: "Take a backup now (an operation: follow it on /admin/operations/{id}/events)",
    security,
    request: { params: s.tenantIdParam },
    responses: operationAccepted,
  });
  r.registerPath({
    method: "post",
    path: "/admin/tenants/{id}/restore",
    summary: "Restore a backup into the tenant, or into another tenant id (a copy)",
    security,
    request: {
      params: s.tenantIdParam,
      body: { content: { "application/json": { schema: s.restoreBody } } },
    },
    responses: operationAccepted,
  });
  r.registerPath({
    method: "get",
    path: "/admin/tenants/{id}/export",
    summary: "Odoo backup zip (manifest.json, dump.sql, filestore/) of a backup, streamed",
    security,
    request: { params: s.tenantIdParam, query: s.exportQuery },
    responses: {
      200: { description: "the zip", content: { "application/zip": { schema: z.string() } } },
      ...errors,
    },
  });
  tenantRoute("post", "/admin/tenants/{id}/plan", "Change plan (resize)", {
    request: {
      params: s.tenantIdParam,
      body: { content: { "application/json": { schema: s.planChangeBody } } },
    },
  });
  tenantRoute(
    "post",
    "/admin/tenants/{id}/suspend",
    "Suspend (an operator hold billing cannot lift)",
  );
  tenantRoute("post", "/admin/tenants/{id}/resume", "Lift the operator hold");
  tenantRoute(
    "post",
    "/admin/tenants/{id}/drift",
    "Check the tenant's stack for drift now (never changes it; the result shows in the tenant)",
  );
  tenantRoute(
    "post",
    "/admin/tenants/{id}/reconcile",
    "Read billing again, then enqueue a reconcile",
  );
  r.registerPath({
    method: "get",
    path: "/admin/billing/problems",
    summary:
      "Subscriptions that bill a customer without an instance of them, and billing work that failed and is retried on its own",
    security,
    responses: { 200: json(z.array(s.billingProblemView), "open problems"), 401: errors[401] },
  });
  r.registerPath({
    method: "post",
    path: "/admin/billing/resync",
    summary: "Read every Kill Bill account again now (also done at start and periodically)",
    security,
    responses: {
      200: json(s.resyncReport, "what was read, changed, and could not be read"),
      401: errors[401],
    },
  });
  r.registerPath({
    method: "post",
    path: "/admin/tenants/{id}/preview",
    summary: "Preview what a reconcile would change",
    security,
    request: { params: s.tenantIdParam },
    responses: { 200: json(s.previewView, "the diff"), ...errors },
  });
  r.registerPath({
    method: "get",
    path: "/admin/operations/{id}",
    summary: "Get an operation",
    security,
    request: { params: s.operationIdParam },
    responses: { 200: json(s.operationView, "the operation"), ...errors },
  });
  r.registerPath({
    method: "get",
    path: "/admin/operations/{id}/events",
    summary: "Stream an operation's progress (Server-Sent Events)",
    security,
    request: { params: s.operationIdParam },
    responses: { 200: { description: "text/event-stream of progress events" }, ...errors },
  });
  for (const [path, summary] of [
    ["/healthz", "Liveness"],
    ["/readyz", "Readiness: PostgreSQL, Redis, Pulumi CLI"],
    ["/metrics", "Prometheus metrics"],
  ])
    r.registerPath({
      method: "get",
      path,
      summary,
      responses: { 200: { description: "ok" }, 503: { description: "not ready" } },
    });

  return new OpenApiGeneratorV3(r.definitions).generateDocument({
    openapi: "3.0.3",
    info: {
      title: "odoo-saas API",
      version: "0.1.0",
      description: "Kill Bill webhooks and tenant administration",
    },
  });
}
