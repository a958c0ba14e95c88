import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import { formatIssues } from "../../catalog";
import { DomainError, ValidationError } from "../common/errors";
import { KillBillError } from "../killbill/client";
import type { Logger } from "../common/logger";
import { isOutage, OutageLog } from "../common/outage";

/** Constant-time string comparison (digests first, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Validates input with a schema; a mismatch is a 422 listing every problem. */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input);
  if (!r.success)
    throw new ValidationError("invalid request", { problems: formatIssues(r.error).split("\n") });
  return r.data;
}

export function requestId(): RequestHandler {
  return (req, res, next) => {
    const given = req.header("x-request-id");
    const id = given && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.setHeader("x-request-id", id);
    next();
  };
}

export function bearerAuth(token: string): RequestHandler {
  return (req, _res, next) => {
    const header = req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!given || !safeEqual(given, token))
      return next(new HttpError(401, "unauthorized", "missing or wrong bearer token"));
    next();
  };
}

/** A request path fit for logs: the webhook's path carries its shared secret. */
export const loggablePath = (path: string) =>
  path.replace(/^\/webhooks\/killbill\/[^/]+/, "/webhooks/killbill/[secret]");

/** An answer of the HTTP layer itself (no such endpoint, no token, not a notification). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The status of each kind of domain error. */
const STATUS: Record<DomainError["code"], number> = { not_found: 404, conflict: 409, invalid: 422 };

/** Wraps an async handler so its rejections reach the error middleware. */
export const handle =
  (fn: (req: Request, res: Response) => Promise<unknown>): RequestHandler =>
  (req, res, next: NextFunction) =>
    fn(req, res).catch(next);

/**
 * The one place errors become answers: client mistakes get their 4xx with a clear message; a
 * dependency that cannot be reached a 503 with Retry-After (logged once per outage); anything else
 * is a 500 with the request id and no internals.
 */
export function errorHandler(logger: Logger, outages = new OutageLog(logger)): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = String(res.locals.requestId ?? "");
    let status = 500;
    let body: { code: string; message: string; details?: unknown };
    if (err instanceof HttpError || err instanceof DomainError) {
      status = err instanceof HttpError ? err.status : STATUS[err.code];
      body = { code: err.code, message: err.message, details: err.details };
    } else if (err?.type === "entity.parse.failed") {
      status = 400;
      body = { code: "malformed", message: "body is not valid JSON" };
    } else if (err?.type === "entity.too.large") {
      status = 413;
      body = { code: "too_large", message: "body too large" };
    } else if (isOutage(err)) {
      // Not a bug and not the client's mistake: come back shortly (Kill Bill retries its push).
      outages.failed(err);
      if (!res.headersSent) res.setHeader("Retry-After", "10");
      if (res.headersSent) return res.end();
      return res.status(503).json({
        error: { code: "unavailable", message: "temporarily unavailable; retry later", requestId },
      });
    } else if (err instanceof KillBillError) {
      // Kill Bill failed us, not the client: what it said, as a gateway error.
      status = 502;
      body = { code: "billing_unavailable", message: err.message };
    } else if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
      status = err.status;
      body = { code: "bad_request", message: "bad request" };
    } else {
      body = { code: "internal", message: "internal error" };
    }
    if (status === 502)
      logger.warn({ error: err.message, requestId }, "Kill Bill failed a request");
    else if (status >= 500)
      logger.error({ err, requestId, path: loggablePath(req.path) }, "request failed");
    if (res.headersSent) return res.end();
    res.status(status).json({ error: { ...body, requestId } });
  };
}
