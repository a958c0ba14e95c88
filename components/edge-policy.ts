/**
 * What the edge adds to every routed response and refuses of every request, as Traefik
 * middlewares declared in a router's own labels (a tenant's routes never depend on another
 * container's labels being there).
 */
export interface EdgePolicy {
  /** Strict-Transport-Security max-age on the platform's own hosts; 0 turns it off. */
  hstsSeconds: number;
  /** Largest request body the edge passes on (413 above it). */
  maxRequestBodyBytes: number;
}

/** Odoo refuses bodies over 128 MiB itself (werkzeug's max_content_length in odoo/http.py). */
export const ODOO_MAX_REQUEST_BODY_MB = 128;

export const DEFAULT_EDGE_POLICY: EdgePolicy = {
  hstsSeconds: 365 * 24 * 3600,
  maxRequestBodyBytes: ODOO_MAX_REQUEST_BODY_MB * 1024 * 1024,
};

/**
 * Security headers Odoo does not set on every response: `nosniff` (Odoo sets it on downloads
 * only), a referrer policy that keeps paths and record ids in the tenant's own origin, and no
 * `Server` banner (werkzeug's names its and Python's version). X-Frame-Options stays Odoo's: it
 * sets DENY on its login and backend pages and lets website pages be embedded on purpose. A
 * header set to "" is removed by Traefik.
 */
export function securityHeaderLabels(middleware: string): Record<string, string> {
  const m = `traefik.http.middlewares.${middleware}.headers`;
  return {
    [`${m}.contentTypeNosniff`]: "true",
    [`${m}.referrerPolicy`]: "strict-origin-when-cross-origin",
    [`${m}.customresponseheaders.Server`]: "",
  };
}

/** HSTS for hosts under the platform's domain (never a customer's own domain: their choice). */
export function hstsLabels(middleware: string, seconds: number): Record<string, string> {
  return { [`traefik.http.middlewares.${middleware}.headers.stsSeconds`]: String(seconds) };
}

/**
 * The request body limit. Traefik's buffering middleware reads the body before passing it on
 * (the way nginx does by default in front of Odoo): a slow upload then holds a Traefik goroutine
 * and a temporary file, not one of the tenant's few Odoo workers, and an oversized one is refused
 * with 413 before the tenant sees a byte. Bodies over 1 MiB go to a temporary file. It buffers
 * the response too (labels cannot turn that off), so it goes only on the routes of requests
 * with a body (`WRITE_METHODS`): downloads stream.
 */
export function bodyLimitLabels(middleware: string, maxBytes: number): Record<string, string> {
  return {
    [`traefik.http.middlewares.${middleware}.buffering.maxRequestBodyBytes`]: String(maxBytes),
  };
}

/** The methods whose requests carry a body, as a Traefik rule. */
export const WRITE_METHODS = "(Method(`POST`) || Method(`PUT`) || Method(`PATCH`))";
