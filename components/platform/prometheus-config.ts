/**
 * Prometheus's configuration, generated from where the platform's parts answer (as JSON, which
 * Prometheus reads as YAML). The job names are the ones the alert rules read
 * (alert-rules.ts): `odoo-saas-api`, `odoo-saas-tenants`, `odoo-saas-platform`, `blackbox`,
 * `postgres`, `traefik`, `node`.
 */
export interface PrometheusSetup {
  /** Production: 15s; tests shorten them. The timeout is at most the interval. */
  scrapeInterval: string;
  scrapeTimeout: string;
  evaluationInterval: string;
  /** Paths inside Prometheus's container. */
  ruleFiles: string[];
  alertmanagers: string[];
  /**
   * The API processes' `/metrics`: fixed `host:port` targets (one container), or a Swarm
   * service's tasks by DNS (`tasks.<service>`, every replica).
   */
  api: { targets: string[] } | { tasksOf: string; port: number };
  /** The API's URL for the tenants to probe, and the file holding its MONITORING_TOKEN. */
  tenantTargetsUrl: string;
  tokenFile: string;
  /** The blackbox exporter's `host:port`. */
  blackbox: string;
  /**
   * Traefik's HTTPS address as the blackbox exporter reaches it (`https://saas-traefik:443`):
   * tenants' public URLs are probed there, by their host name (Host header and TLS SNI), so the
   * probe takes the customers' way in without a DNS record. Unset: the public URLs as they are.
   */
  edge?: string;
  /** The platform's own services, probed through the blackbox exporter. */
  platformProbes: {
    service: string;
    module: "http_2xx" | "http_answers" | "tcp_connect";
    target: string;
  }[];
  postgresExporters: string[];
  traefikMetrics: string[];
  nodeExporters: string[];
}

/**
 * Scrapes through the blackbox exporter: the target becomes its `target` parameter; the module is
 * the job's, or each target group's own (`__param_module`).
 */
function viaBlackbox(blackbox: string, module?: string) {
  return {
    metrics_path: "/probe",
    ...(module ? { params: { module: [module] } } : {}),
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: blackbox },
    ],
  };
}

/** A tenant's public URL probed at Traefik's own address, by its host name. */
function viaEdge(blackbox: string, edge: string) {
  return {
    metrics_path: "/probe",
    params: { module: ["http_2xx"] },
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "instance" },
      {
        source_labels: ["__address__"],
        regex: "https?://([^/:]+).*",
        target_label: "__param_hostname",
        replacement: "$1",
      },
      {
        source_labels: ["__address__"],
        regex: "https?://[^/]+(/.*)?",
        target_label: "__param_target",
        replacement: `${edge}$1`,
      },
      { target_label: "__address__", replacement: blackbox },
    ],
  };
}

export function prometheusConfig(s: PrometheusSetup) {
  const fixed = (job: string, targets: string[]) => ({
    job_name: job,
    static_configs: [{ targets }],
  });
  return {
    global: {
      scrape_interval: s.scrapeInterval,
      scrape_timeout: s.scrapeTimeout,
      evaluation_interval: s.evaluationInterval,
    },
    rule_files: s.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: s.alertmanagers }] }] },
    scrape_configs: [
      "targets" in s.api
        ? fixed("odoo-saas-api", s.api.targets)
        : {
            job_name: "odoo-saas-api",
            dns_sd_configs: [{ names: [`tasks.${s.api.tasksOf}`], type: "A", port: s.api.port }],
          },
      {
        // Every active tenant, from the API: a new one is probed from the next refresh on.
        job_name: "odoo-saas-tenants",
        http_sd_configs: [
          {
            url: s.tenantTargetsUrl,
            refresh_interval: s.scrapeInterval,
            authorization: { type: "Bearer", credentials_file: s.tokenFile },
          },
        ],
        ...(s.edge ? viaEdge(s.blackbox, s.edge) : viaBlackbox(s.blackbox, "http_2xx")),
      },
      {
        job_name: "odoo-saas-platform",
        static_configs: s.platformProbes.map((p) => ({
          targets: [p.target],
          labels: { service: p.service, __param_module: p.module },
        })),
        ...viaBlackbox(s.blackbox),
      },
      fixed("blackbox", [s.blackbox]),
      fixed("postgres", s.postgresExporters),
      fixed("traefik", s.traefikMetrics),
      fixed("node", s.nodeExporters),
    ],
  };
}
