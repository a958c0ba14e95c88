import type { Runtime } from "../workload";

export interface ServiceRoute {
  router: string;
  host: string;
  port: number;
  entryPoint: string;
  certResolver?: string;
  network: string;
  runtime: Runtime;
}

/** Traefik labels routing one host to one port of a platform service (the API, Kaui). */
export function serviceRouteLabels(r: ServiceRoute): Record<string, string> {
  const provider = r.runtime === "swarm" ? "swarm" : "docker";
  const labels: Record<string, string> = {
    "traefik.enable": "true",
    [`traefik.${provider}.network`]: r.network,
    [`traefik.http.routers.${r.router}.rule`]: `Host(\`${r.host}\`)`,
    [`traefik.http.routers.${r.router}.entrypoints`]: r.entryPoint,
    [`traefik.http.routers.${r.router}.service`]: r.router,
    [`traefik.http.routers.${r.router}.tls`]: "true",
    [`traefik.http.services.${r.router}.loadbalancer.server.port`]: String(r.port),
  };
  if (r.certResolver) labels[`traefik.http.routers.${r.router}.tls.certresolver`] = r.certResolver;
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

/** Traefik's static configuration as command-line flags. */
export function traefikCommand(opts: {
  runtime: Runtime;
  edgeNetwork: string;
  httpPort: number;
  httpsPort: number;
  certResolver?: string;
  acmeEmail?: string;
  dashboard: boolean;
  swarmRefreshSeconds?: number;
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
    `--api.dashboard=${opts.dashboard}`,
    "--ping=true",
    // On the web entry point: the health check reaches it without another open port.
    "--ping.entrypoint=web",
  ];
  if (opts.metricsPort)
    args.push(
      `--entrypoints.metrics.address=:${opts.metricsPort}`,
      "--metrics.prometheus=true",
      "--metrics.prometheus.entrypoint=metrics",
      "--metrics.prometheus.addservicesLabels=false",
    );
  if (opts.certResolver && opts.acmeEmail) {
    const r = `--certificatesresolvers.${opts.certResolver}.acme`;
    args.push(
      `${r}.email=${opts.acmeEmail}`,
      `${r}.storage=/letsencrypt/acme.json`,
      `${r}.tlschallenge=true`,
    );
  }
  return args;
}
