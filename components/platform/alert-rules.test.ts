// Every alert rule run by Prometheus's own evaluator (`promtool test rules`, Debian's prometheus
// 2.42, scripts/ensure-prometheus-tools.sh) on series written here: it fires on its case, naming what and
// with its first step; it stays quiet on healthy series and when its series are missing (or, for
// the rule about missing targets, fires exactly then).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ALERT_RULES, alertRuleFile, WATCHDOG_ALERT, type AlertRule } from "./alert-rules";

interface Series {
  series: string;
  values: string;
}
interface Case {
  /** Series under which it fires at `at`, with these labels (and `$value` for its summary). */
  fires: { input: Series[]; at: string; labels: Record<string, string>[]; value?: string };
  /** Series under which it must stay quiet. */
  quiet: Series[];
}

const api = 'job="odoo-saas-api",instance="api-1:8080"';
const CASES: Record<string, Case> = {
  TenantDown: {
    fires: {
      input: [{ series: `probe_success{job="odoo-saas-tenants",tenant="acme"}`, values: "0x10" }],
      at: "5m",
      labels: [{ tenant: "acme" }],
    },
    // A probe failing for two minutes out of three is a blip, not a page.
    quiet: [
      {
        series: `probe_success{job="odoo-saas-tenants",tenant="acme"}`,
        values: "1 0 0 1 0 0 1 0 0 1 0",
      },
    ],
  },
  ReconcileGivenUp: {
    fires: {
      input: [
        { series: `odoo_saas_tenant_reconcile_given_up{${api},tenant="acme"}`, values: "1x5" },
      ],
      at: "3m",
      labels: [{ tenant: "acme" }],
    },
    quiet: [{ series: `odoo_saas_tenant_reconcile_given_up{${api},tenant="acme"}`, values: "0x5" }],
  },
  ReconcileStuck: {
    fires: {
      input: [
        {
          series: `odoo_saas_tenant_unconverged_seconds{${api},tenant="acme"}`,
          values: "1900+60x10",
        },
      ],
      at: "7m",
      labels: [{ tenant: "acme" }],
    },
    quiet: [
      { series: `odoo_saas_tenant_unconverged_seconds{${api},tenant="acme"}`, values: "60x10" },
    ],
  },
  WebhookBacklog: {
    fires: {
      input: [{ series: `odoo_saas_webhook_inbox_oldest_seconds{${api}}`, values: "700+60x10" }],
      at: "7m",
      labels: [{}],
    },
    quiet: [{ series: `odoo_saas_webhook_inbox_oldest_seconds{${api}}`, values: "5x10" }],
  },
  MailUndelivered: {
    fires: {
      input: [
        { series: `odoo_saas_mail_undelivered_oldest_seconds{${api}}`, values: "1900+60x10" },
      ],
      at: "7m",
      labels: [{}],
    },
    quiet: [{ series: `odoo_saas_mail_undelivered_oldest_seconds{${api}}`, values: "0x10" }],
  },
  BackupMissing: {
    fires: {
      input: [
        {
          series: `odoo_saas_tenant_backup_age_seconds{${api},tenant="acme"}`,
          values: "94000+60x15",
        },
      ],
      at: "12m",
      labels: [{ tenant: "acme" }],
    },
    quiet: [
      { series: `odoo_saas_tenant_backup_age_seconds{${api},tenant="acme"}`, values: "3600+60x15" },
    ],
  },
  UsageNotMeasured: {
    fires: {
      input: [
        {
          series: `odoo_saas_tenant_usage_measurement_age_seconds{${api},tenant="acme"}`,
          values: "94000+60x15",
        },
      ],
      at: "12m",
      labels: [{ tenant: "acme" }],
    },
    quiet: [
      {
        series: `odoo_saas_tenant_usage_measurement_age_seconds{${api},tenant="acme"}`,
        values: "21600+60x15",
      },
    ],
  },
  UsageNotRecorded: {
    fires: {
      input: [
        { series: `odoo_saas_tenant_usage_days_unrecorded{${api},tenant="acme"}`, values: "2x70" },
      ],
      at: "65m",
      labels: [{ tenant: "acme" }],
    },
    // A day that failed once, recorded on the next run: the gauge is back to 0.
    quiet: [
      {
        series: `odoo_saas_tenant_usage_days_unrecorded{${api},tenant="acme"}`,
        values: "1x20 0x50",
      },
    ],
  },
  RestoreDrillFailed: {
    fires: {
      input: [{ series: `odoo_saas_restore_drill_failed{${api},tenant="acme"}`, values: "1x10" }],
      at: "7m",
      labels: [{ tenant: "acme" }],
    },
    // A drill that failed once and then passed: the gauge is gone.
    quiet: [{ series: `odoo_saas_restore_drill_failed{${api},tenant="acme"}`, values: "1 1 _x8" }],
  },
  RestoreDrillStale: {
    fires: {
      // The last success 9 days before the test's clock starts.
      input: [
        {
          series: `odoo_saas_restore_drill_last_success_timestamp{${api}}`,
          values: "-777600x80",
        },
      ],
      at: "70m",
      labels: [{}],
    },
    quiet: [{ series: `odoo_saas_restore_drill_last_success_timestamp{${api}}`, values: "0x80" }],
  },
  SharedPostgresConnections: {
    fires: {
      input: [
        {
          series: `pg_stat_activity_count{instance="pg:9187",datname="a",state="active"}`,
          values: "50x10",
        },
        {
          series: `pg_stat_activity_count{instance="pg:9187",datname="b",state="idle"}`,
          values: "35x10",
        },
        { series: `pg_settings_max_connections{instance="pg:9187"}`, values: "100x10" },
      ],
      at: "7m",
      labels: [{ instance: "pg:9187" }],
    },
    quiet: [
      {
        series: `pg_stat_activity_count{instance="pg:9187",datname="a",state="active"}`,
        values: "50x10",
      },
      {
        series: `pg_stat_activity_count{instance="pg:9187",datname="b",state="idle"}`,
        values: "20x10",
      },
      { series: `pg_settings_max_connections{instance="pg:9187"}`, values: "100x10" },
    ],
  },
  PostgresDown: {
    fires: {
      input: [{ series: `pg_up{job="postgres",instance="pg:9187"}`, values: "0x5" }],
      at: "4m",
      labels: [{ job: "postgres", instance: "pg:9187" }],
    },
    quiet: [{ series: `pg_up{job="postgres",instance="pg:9187"}`, values: "1x5" }],
  },
  PlatformServiceDown: {
    fires: {
      input: [
        {
          series: `probe_success{job="odoo-saas-platform",service="redis",instance="redis:6379"}`,
          values: "0x5",
        },
      ],
      at: "4m",
      labels: [{ job: "odoo-saas-platform", service: "redis", instance: "redis:6379" }],
    },
    quiet: [
      {
        series: `probe_success{job="odoo-saas-platform",service="redis",instance="redis:6379"}`,
        values: "1x5",
      },
    ],
  },
  KillBillUnhealthy: {
    fires: {
      input: [
        {
          series: `probe_http_status_code{job="odoo-saas-platform",service="killbill",instance="kb"}`,
          values: "503x40",
        },
      ],
      at: "35m",
      labels: [{ job: "odoo-saas-platform", service: "killbill", instance: "kb" }],
    },
    // Healthy, or unhealthy for a while under a burst of events: no ticket.
    quiet: [
      {
        series: `probe_http_status_code{job="odoo-saas-platform",service="killbill",instance="kb"}`,
        values: "200x10 503x15 200x15",
      },
    ],
  },
  ScrapeTargetDown: {
    fires: {
      input: [{ series: `up{${api}}`, values: "0x10" }],
      at: "7m",
      labels: [{ job: "odoo-saas-api", instance: "api-1:8080" }],
    },
    quiet: [{ series: `up{${api}}`, values: "1x10" }],
  },
  ScrapeTargetMissing: {
    fires: {
      input: [],
      at: "7m",
      labels: [{ job: "odoo-saas-api" }, { job: "blackbox" }, { job: "postgres" }],
    },
    quiet: [
      { series: `up{${api}}`, values: "1x10" },
      { series: `up{job="blackbox",instance="blackbox:9115"}`, values: "1x10" },
      { series: `up{job="postgres",instance="pg:9187"}`, values: "1x10" },
    ],
  },
  DiskFillingUp: {
    fires: {
      // 10 GB left, 100 MB a minute more used: full in under two hours.
      input: [
        {
          series: `node_filesystem_avail_bytes{instance="host:9100",mountpoint="/srv/backups",fstype="ext4"}`,
          values: "10000000000-100000000x60",
        },
      ],
      at: "45m",
      labels: [{ instance: "host:9100", mountpoint: "/srv/backups", fstype: "ext4" }],
    },
    quiet: [
      {
        series: `node_filesystem_avail_bytes{instance="host:9100",mountpoint="/srv/backups",fstype="ext4"}`,
        values: "10000000000x60",
      },
    ],
  },
  CertificateExpiring: {
    fires: {
      // promtool's clock starts at 0: a certificate valid until day 10.
      input: [
        {
          series: `probe_ssl_earliest_cert_expiry{job="odoo-saas-tenants",instance="https://acme.example",tenant="acme"}`,
          values: `${10 * 86400}x80`,
        },
      ],
      at: "70m",
      labels: [{ job: "odoo-saas-tenants", instance: "https://acme.example", tenant: "acme" }],
    },
    quiet: [
      {
        series: `probe_ssl_earliest_cert_expiry{job="odoo-saas-tenants",instance="https://acme.example",tenant="acme"}`,
        values: `${40 * 86400}x80`,
      },
    ],
  },
  FleetDrift: {
    fires: {
      input: [{ series: `odoo_saas_tenants_drifted{${api}}`, values: "2x80" }],
      at: "70m",
      labels: [{}],
      value: "2",
    },
    quiet: [{ series: `odoo_saas_tenants_drifted{${api}}`, values: "0x80" }],
  },
};

/** An annotation as Prometheus renders it for an alert with these labels and value. */
const rendered = (template: string, labels: Record<string, string>, value = "") =>
  template
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? "")
    .replace(/\{\{ \$value \}\}/g, value);

function promtoolTests(rule: AlertRule, c: Case) {
  const expected = (labels: Record<string, string>) => ({
    exp_labels: { ...labels, severity: rule.severity },
    exp_annotations: {
      summary: rendered(rule.summary, labels, c.fires.value),
      first_step: rendered(rule.firstStep, labels, c.fires.value),
    },
  });
  const unrelated = [{ series: 'unrelated_metric{job="other"}', values: "1x80" }];
  const absenceRule = rule.expr.startsWith("absent(");
  return [
    {
      name: `${rule.alert} fires`,
      interval: "1m",
      input_series: c.fires.input.length ? c.fires.input : unrelated,
      alert_rule_test: [
        { eval_time: c.fires.at, alertname: rule.alert, exp_alerts: c.fires.labels.map(expected) },
      ],
    },
    {
      name: `${rule.alert} stays quiet while healthy`,
      interval: "1m",
      input_series: c.quiet,
      alert_rule_test: [{ eval_time: c.fires.at, alertname: rule.alert, exp_alerts: [] }],
    },
    ...(absenceRule
      ? []
      : [
          {
            name: `${rule.alert} stays quiet without its series`,
            interval: "1m",
            input_series: unrelated,
            alert_rule_test: [{ eval_time: c.fires.at, alertname: rule.alert, exp_alerts: [] }],
          },
        ]),
  ];
}

const promtool = process.env.PROMTOOL ?? "promtool";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-rules-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): string {
  try {
    return execFileSync(promtool, args, { cwd: dir, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    const err = e as { code?: string; stdout?: string; stderr?: string };
    if (err.code === "ENOENT")
      throw new Error(`${promtool} not found: scripts/ensure-prometheus-tools.sh provides it`);
    throw new Error(`promtool ${args.join(" ")} failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

describe("alert rules, evaluated by promtool", () => {
  it("every rule has its cases, and every case its rule", () =>
    expect(Object.keys(CASES).sort()).toEqual(ALERT_RULES.map((r) => r.alert).sort()));

  it("the rule file is valid, every rule waits before it fires and says what and what to do", () => {
    fs.writeFileSync(path.join(dir, "rules.json"), JSON.stringify(alertRuleFile()));
    expect(run(["check", "rules", "rules.json"])).toMatch(
      new RegExp(`SUCCESS: ${ALERT_RULES.length + 1} rules found`), // and the Watchdog
    );
    for (const r of ALERT_RULES) {
      expect([r.alert, r.for]).toEqual([r.alert, expect.stringMatching(/^\d+[mh]$/)]);
      expect(r.summary.length).toBeGreaterThan(10);
      expect(r.firstStep.length).toBeGreaterThan(10);
    }
  });

  it("the README lists every alert with its first step", () => {
    const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
    for (const r of ALERT_RULES)
      expect([r.alert, readme.includes(`| ${r.alert} `)]).toEqual([r.alert, true]);
  });

  it("the Watchdog fires from the first evaluation on, whatever the series (the heartbeat)", () => {
    fs.writeFileSync(path.join(dir, "watchdog.rules.json"), JSON.stringify(alertRuleFile([])));
    fs.writeFileSync(
      path.join(dir, "watchdog.test.json"),
      JSON.stringify({
        rule_files: ["watchdog.rules.json"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [],
            alert_rule_test: ["0m", "30m"].map((at) => ({
              eval_time: at,
              alertname: WATCHDOG_ALERT,
              exp_alerts: [
                {
                  exp_labels: { severity: "heartbeat" },
                  exp_annotations: {
                    summary:
                      "always firing: the alerting chain is alive (the API's dead man's switch reads it)",
                  },
                },
              ],
            })),
          },
        ],
      }),
    );
    expect(run(["test", "rules", "watchdog.test.json"])).toMatch(/SUCCESS/);
  });

  it.each(ALERT_RULES.map((r) => [r.alert, r] as const))(
    "%s: fires on its case, quiet when healthy and without its series",
    (_, rule) => {
      fs.writeFileSync(
        path.join(dir, `${rule.alert}.rules.json`),
        JSON.stringify(alertRuleFile([rule])),
      );
      fs.writeFileSync(
        path.join(dir, `${rule.alert}.test.json`),
        JSON.stringify({
          rule_files: [`${rule.alert}.rules.json`],
          evaluation_interval: "1m",
          tests: promtoolTests(rule, CASES[rule.alert]),
        }),
      );
      expect(run(["test", "rules", `${rule.alert}.test.json`])).toMatch(/SUCCESS/);
    },
  );
});
