import { hstsLabels, securityHeaderLabels } from "../edge-policy";
import type { Runtime } from "../workload";

/** One public router of a platform service: the whole host, or one path prefix of it. */
export interface ServiceRouter {
  router: string;
  pathPrefix?: string;
  /** Requests per second one source address may make (and its burst); 429 beyond. */
  rateLimit?: { average: number; burst: number };
}

export interface ServiceRoute {
  /** Traefik's name of the service, and the prefix of its middlewares. */
  service: string;
  host: string;
  port: number;
  entryPoint: string;
  certResolver?: string;
  network: string;
  runtime: Runtime;
  /** HSTS max-age on the host (one of the platform's own); 0: none. */
  hstsSeconds: number;
  /** None: Traefik does not route the service at all (not even its default rule). */
  routers: ServiceRouter[];
}

/**
 * Traefik labels routing a host, or path prefixes of it, to one port of a platform service (the
 * API, Kaui), each response with the edge's security headers and HSTS.
 */
export function serviceRouteLabels(r: ServiceRoute): Record<string, string> {
  if (r.routers.length === 0) return { "traefik.enable": "false" };
  const provider = r.runtime === "swarm" ? "swarm" : "docker";
  const headers = `${r.service}-headers`;
  const labels: Record<string, string> = {
    "traefik.enable": "true",
    [`traefik.${provider}.network`]: r.network,
    [`traefik.http.services.${r.service}.loadbalancer.server.port`]: String(r.port),
    ...securityHeaderLabels(headers),
    ...(r.hstsSeconds > 0 ? hstsLabels(headers, r.hstsSeconds) : {}),
  };
  for (const route of r.routers) {
    const k = `traefik.http.routers.${route.router}`;
    const limit = `${route.router}-ratelimit`;
    labels[`${k}.rule`] = route.pathPrefix
      ? `Host(\`${r.host}\`) && PathPrefix(\`${route.pathPrefix}\`)`
      : `Host(\`${r.host}\`)`;
    labels[`${k}.entrypoints`] = r.entryPoint;
    labels[`${k}.service`] = r.service;
    labels[`${k}.middlewares`] = route.rateLimit ? `${headers},${limit}` : headers;
    labels[`${k}.tls`] = "true";
    if (r.certResolver) labels[`${k}.tls.certresolver`] = r.certResolver;
    if (route.rateLimit) {
      // Per source address (Traefik's default criterion: the connection's remote address).
      labels[`traefik.http.middlewares.${limit}.ratelimit.average`] = String(
        route.rateLimit.average,
      );
      labels[`traefik.http.middlewares.${limit}.ratelimit.burst`] = String(route.rateLimit.burst);
    }
  }
  return labels;
}

/**
 * Traefik's own health check: the `healthcheck` subcommand with the flags it needs to find the
 * ping endpoint (the web entry point).
 */
export function traefikHealthcheckTests(httpPort: number): string[] {
  return [
    "CMD",
    "traefik",
    "healthcheck",
    "--ping",
    "--ping.entrypoint=web",
    `--entrypoints.web.address=:${httpPort}`,
  ];
}

/** Traefik's ACME certificate resolver. */
export interface AcmeResolver {
  resolver: string;
  email: string;
  caServer: string;
  challenge: "tls-alpn-01" | "http-01";
  /** Where the ACME server's HTTPS roots are inside Traefik's container, when given. */
  caCertificatesPath?: string;
  profile?: string;
  certificatesDurationHours?: number;
}

/** Traefik's static configuration as command-line flags. */
export function traefikCommand(opts: {
  runtime: Runtime;
  edgeNetwork: string;
  httpPort: number;
  httpsPort: number;
  /** The ACME resolver: none without it (Traefik's default certificate). */
  acme?: AcmeResolver;
  dashboard: boolean;
  swarmRefreshSeconds?: number;
  /** How long a client may take to send a whole request on the websecure entry point. */
  requestReadSeconds: number;
  /**
   * Prometheus metrics on an entry point of their own, per entry point only: the port is open
   * on the edge network too, so it names no router or service (no tenant).
   */
  metricsPort?: number;
}): string[] {
  const provider = opts.runtime === "swarm" ? "swarm" : "docker";
  const args = [
    `--providers.${provider}=true`,
    `--providers.${provider}.exposedbydefault=false`,
    `--providers.${provider}.network=${opts.edgeNetwork}`,
    ...(provider === "swarm"
      ? [`--providers.swarm.refreshSeconds=${opts.swarmRefreshSeconds ?? 15}s`]
      : []),
    `--entrypoints.web.address=:${opts.httpPort}`,
    "--entrypoints.web.http.redirections.entrypoint.to=websecure",
    "--entrypoints.web.http.redirections.entrypoint.scheme=https",
    `--entrypoints.websecure.address=:${opts.httpsPort}`,
    `--entrypoints.websecure.transport.respondingTimeouts.readTimeout=${opts.requestReadSeconds}s`,
    `--api.dashboard=${opts.dashboard}`,
    "--ping=true",
    // On the web entry point: the health check reaches it without another open port.
    "--ping.entrypoint=web",
    // One JSON object per line: the API reads why the CA refused a certificate from it.
    "--log.format=json",
  ];
  if (opts.metricsPort)
    args.push(
      `--entrypoints.metrics.address=:${opts.metricsPort}`,
      "--metrics.prometheus=true",
      "--metrics.prometheus.entrypoint=metrics",
      "--metrics.prometheus.addservicesLabels=false",
    );
  const acme = opts.acme;
  if (acme) {
    const r = `--certificatesresolvers.${acme.resolver}.acme`;
    args.push(
      `${r}.email=${acme.email}`,
      // On the certificates volume: a restarted Traefik serves them again, nothing re-ordered.
      `${r}.storage=/letsencrypt/acme.json`,
      `${r}.caserver=${acme.caServer}`,
      acme.challenge === "http-01" ? `${r}.httpchallenge.entrypoint=web` : `${r}.tlschallenge=true`,
      ...(acme.caCertificatesPath ? [`${r}.caCertificates=${acme.caCertificatesPath}`] : []),
      ...(acme.profile ? [`${r}.profile=${acme.profile}`] : []),
      ...(acme.certificatesDurationHours
        ? [`${r}.certificatesDuration=${acme.certificatesDurationHours}`]
        : []),
    );
  }
  return args;
}
