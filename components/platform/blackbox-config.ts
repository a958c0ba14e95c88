/**
 * The blackbox exporter's modules: `http_2xx` for tenants (through Traefik) and the platform's HTTP
 * services, `http_answers` for a service whose health page answers 503 when it is up but judges
 * itself unhealthy (Kill Bill: its queue check forecasts growth under load), `tcp_connect` for the
 * others (Redis). JSON, which the exporter reads as YAML.
 */
export function blackboxConfig(opts: {
  /**
   * Verify tenants' certificates: on with an ACME resolver (an expiring certificate then alerts);
   * off with Traefik's default self-signed one, which would fail every probe.
   */
  verifyTls: boolean;
  /** At most the scrape timeout, or Prometheus gives up before the exporter does. */
  timeoutSeconds: number;
}) {
  return {
    modules: {
      http_2xx: {
        prober: "http",
        timeout: `${opts.timeoutSeconds}s`,
        http: {
          preferred_ip_protocol: "ip4",
          tls_config: { insecure_skip_verify: !opts.verifyTls },
          // Tenants' gateways do not count a probe as use (Odoo 14's probe is its sign-in page).
          headers: { "X-Odoo-Saas-Probe": "blackbox" },
        },
      },
      http_answers: {
        prober: "http",
        timeout: `${opts.timeoutSeconds}s`,
        http: { preferred_ip_protocol: "ip4", valid_status_codes: [200, 503] },
      },
      tcp_connect: {
        prober: "tcp",
        timeout: `${opts.timeoutSeconds}s`,
        tcp: { preferred_ip_protocol: "ip4" },
      },
    },
  };
}
