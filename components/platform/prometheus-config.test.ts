// The generated configuration, checked by Prometheus's own `promtool check config` (with the rule
// file it names), on both shapes of the API's targets.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ALERT_RULES, alertRuleFile } from "./alert-rules";
import { prometheusConfig, type PrometheusSetup } from "./prometheus-config";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-prometheus-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const promtool = process.env.PROMTOOL ?? "promtool";

const setup = (api: PrometheusSetup["api"], edge?: string): PrometheusSetup => ({
  edge,
  scrapeInterval: "15s",
  scrapeTimeout: "10s",
  evaluationInterval: "15s",
  ruleFiles: [path.join(dir, "rules.json")],
  alertmanagers: ["saas-alertmanager:9093"],
  api,
  tenantTargetsUrl: "http://saas-api:3000/monitoring/tenant-targets",
  tokenFile: path.join(dir, "monitoring-token"),
  blackbox: "saas-blackbox:9115",
  platformProbes: [
    { service: "redis", module: "tcp_connect", target: "saas-redis:6379" },
    {
      service: "killbill",
      module: "http_2xx",
      target: "http://saas-killbill:8080/1.0/healthcheck",
    },
  ],
  postgresExporters: ["saas-postgres-exporter:9187"],
  traefikMetrics: ["saas-traefik:8082"],
  nodeExporters: ["saas-node-exporter:9100"],
});

describe("Prometheus's configuration", () => {
  beforeAll(() => {
    fs.writeFileSync(path.join(dir, "rules.json"), JSON.stringify(alertRuleFile()));
    fs.writeFileSync(path.join(dir, "monitoring-token"), "a-token-of-sixteen+");
  });

  it.each<[string, PrometheusSetup["api"], string | undefined]>([
    ["one API container", { targets: ["saas-api:3000"] }, undefined],
    ["the API's Swarm tasks", { tasksOf: "saas-api", port: 3000 }, undefined],
    ["tenants probed at Traefik's address", { targets: ["saas-api:3000"] }, "https://t:443"],
  ])("promtool accepts it with %s, and its rules", (_, api, edge) => {
    const file = path.join(dir, "prometheus.json");
    fs.writeFileSync(file, JSON.stringify(prometheusConfig(setup(api, edge))));
    const out = execFileSync(promtool, ["check", "config", file], { encoding: "utf8" });
    expect(out).toMatch(/SUCCESS: .*prometheus\.json is valid prometheus config file syntax/);
    expect(out).toContain(`SUCCESS: ${ALERT_RULES.length + 1} rules found`); // and the Watchdog
  });

  it("scrapes every job the alert rules read", () => {
    const jobs = prometheusConfig(setup({ targets: ["saas-api:3000"] })).scrape_configs.map(
      (c) => c.job_name,
    );
    const read = new Set(
      ALERT_RULES.flatMap((r) => [...r.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1])),
    );
    for (const job of read) expect([job, jobs.includes(job)]).toEqual([job, true]);
  });
});
