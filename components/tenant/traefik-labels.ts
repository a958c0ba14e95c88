import { createHash } from "node:crypto";
import {
  bodyLimitLabels,
  hstsLabels,
  securityHeaderLabels,
  WRITE_METHODS,
  type EdgePolicy,
} from "../edge-policy";
import { realtimeRoute, type OdooVersion } from "./odoo-versions";

export interface RoutingInput {
  /** Router/service name prefix, unique per tenant. */
  router: string;
  /** `<subdomain>.<base-domain>` first, then custom domains. */
  hosts: string[];
  odooVersion: OdooVersion;
  /** Traefik entry point for HTTPS (e.g. `websecure`). */
  entryPoint: string;
  /** ACME certificate resolver; omitted when TLS is terminated elsewhere. */
  certResolver?: string;
  /** The network Traefik reaches the tenant on. */
  network: string;
  /** `container`: Traefik's docker provider; `swarm`: its swarm provider. */
  runtime: "container" | "swarm";
  edge: EdgePolicy;
}

export const ODOO_HTTP_PORT = 8069;
export const ODOO_REALTIME_PORT = 8072;

/**
 * The Traefik labels that route a tenant: each host to 8069, its requests with a body through the
 * edge's body limit on a router of their own, and its real-time path to 8072 on the
 * highest-priority router; TLS with the cert resolver; X-Forwarded-Proto forced to https
 * (Traefik forwards `wss` on websockets, which Odoo 16+ compares against an https Origin) and the
 * edge's security headers on every response, HSTS on the tenant's own address under the
 * platform's domain (the first host), never on a customer's domain.
 * One pair of routers per host: with several hosts in one rule Traefik orders one certificate
 * for all of them, so a custom domain not (yet) pointed at the platform would also leave the
 * tenant's own address without a valid certificate. The first host keeps the plain router names.
 * The same map goes on the container (docker provider) or on the service (swarm provider).
 */
export function traefikLabels(input: RoutingInput): Record<string, string> {
  if (input.hosts.length === 0) throw new Error("at least one host is required");
  const r = input.router;
  const realtime = realtimeRoute(input.odooVersion);
  const provider = input.runtime === "swarm" ? "swarm" : "docker";
  const hsts = input.edge.hstsSeconds > 0;
  const labels: Record<string, string> = {
    "traefik.enable": "true",
    [`traefik.${provider}.network`]: input.network,
    [`traefik.http.middlewares.${r}-headers.headers.customrequestheaders.X-Forwarded-Proto`]:
      "https",
    ...securityHeaderLabels(`${r}-headers`),
    ...(hsts ? hstsLabels(`${r}-hsts`, input.edge.hstsSeconds) : {}),
    ...bodyLimitLabels(`${r}-body`, input.edge.maxRequestBodyBytes),
    [`traefik.http.services.${r}-http.loadbalancer.server.port`]: String(ODOO_HTTP_PORT),
    [`traefik.http.services.${r}-realtime.loadbalancer.server.port`]: String(ODOO_REALTIME_PORT),
  };
  const router = (
    name: string,
    rule: string,
    service: string,
    priority: number,
    middlewares: string[],
  ) => {
    const k = `traefik.http.routers.${name}`;
    labels[`${k}.rule`] = rule;
    labels[`${k}.entrypoints`] = input.entryPoint;
    labels[`${k}.service`] = service;
    labels[`${k}.priority`] = String(priority);
    labels[`${k}.middlewares`] = middlewares.join(",");
    labels[`${k}.tls`] = "true";
    if (input.certResolver) labels[`${k}.tls.certresolver`] = input.certResolver;
  };
  input.hosts.forEach((host, i) => {
    const prefix =
      i === 0 ? r : `${r}-${createHash("sha256").update(host).digest("hex").slice(0, 8)}`;
    const headers = i === 0 && hsts ? [`${r}-headers`, `${r}-hsts`] : [`${r}-headers`];
    const matches = `Host(\`${host}\`)`;
    router(`${prefix}-http`, matches, `${r}-http`, 1, headers);
    router(`${prefix}-upload`, `${matches} && ${WRITE_METHODS}`, `${r}-http`, 10, [
      ...headers,
      `${r}-body`,
    ]);
    router(`${prefix}-realtime`, `${matches} && ${realtime.rule}`, `${r}-realtime`, 20, headers);
  });
  return labels;
}

/** Labels as the docker provider's `[{label, value}]` list, in a stable order. */
export function labelList(labels: Record<string, string>): { label: string; value: string }[] {
  return Object.keys(labels)
    .sort()
    .map((label) => ({ label, value: labels[label] }));
}
