import * as pulumi from "@pulumi/pulumi";
import { dockerWorkload, secretFilePath, type NetworkRef, type WorkloadSpec } from "../workload";
import { ALERT_RULES, alertRuleFile } from "./alert-rules";
import { alertmanagerConfig } from "./alertmanager-config";
import { blackboxConfig } from "./blackbox-config";
import { childOptions, platformVolume, type PlatformPartArgs } from "./platform-part";
import { prometheusConfig, type PrometheusSetup } from "./prometheus-config";

type Limits = { cpus: number; memoryMb: number };

export interface MonitoringArgs extends PlatformPartArgs {
  image: string;
  /** How long Prometheus keeps its series (`30d`). */
  retention: string;
  timing: "production" | "test";
  /** Where every part of it runs: tenants never join it. */
  controlNetwork: NetworkRef;
  /** The postgres exporter's way to the shared server (none: an external server it reaches). */
  dataNetwork?: NetworkRef;
  /** The API service (every process's `/metrics`, and the tenants to probe). */
  api: { service: string; port: number };
  /** The API's MONITORING_TOKEN: all Prometheus may do with it is list the tenants to probe. */
  monitoringToken: pulumi.Input<string>;
  /** Alerts go out through this SMTP server (the API's SMTP_URL) to the operator. */
  smtpUrl: pulumi.Input<string>;
  operatorEmail: string;
  mailFrom: string;
  /** PostgreSQL as the exporter reaches it. */
  postgres: {
    address: string;
    user: string;
    password: pulumi.Input<string>;
    sslMode: string;
  };
  /** Traefik's HTTPS address on the control network: tenants are probed through it. */
  edge: string;
  /** Verify tenants' certificates (with an ACME resolver). */
  verifyTls: boolean;
  /** The platform's own services, probed by the blackbox exporter. */
  platformProbes: PrometheusSetup["platformProbes"];
  /** Traefik's metrics entry point (`host:port`). */
  traefikMetrics: string;
  limits: { prometheus: Limits; agent: Limits };
}

/**
 * The two timings: production's, and one for tests that watch an alert arrive in seconds.
 * The heartbeat: Prometheus resends firing alerts every `resendDelay` (an alert it stops sending
 * ends 4 of them later, so a dead Prometheus ends the Watchdog within a minute); Alertmanager
 * posts the Watchdog to the API `every`; the API mails a silence of `silenceSeconds`, looked for
 * on `watchCron` (api/services/monitoring-watch.ts).
 */
const TIMINGS = {
  production: {
    scrapeSeconds: 15,
    timeoutSeconds: 10,
    forDivisor: 1,
    groupWait: "10s",
    groupInterval: "5m",
    repeatInterval: "4h",
    heartbeat: {
      resendDelay: "15s",
      every: "1m",
      silenceSeconds: 180,
      watchCron: "*/30 * * * * *",
    },
  },
  test: {
    // A probe's timeout is a second under the scrape's: 3 s leaves a busy test machine 2 s.
    scrapeSeconds: 3,
    timeoutSeconds: 3,
    forDivisor: 30,
    groupWait: "1s",
    groupInterval: "5s",
    repeatInterval: "1h",
    heartbeat: { resendDelay: "1s", every: "2s", silenceSeconds: 12, watchCron: "*/2 * * * * *" },
  },
} as const;

/** How the API watches the monitoring's heartbeat, for the timing it runs with. */
export const heartbeatWatch = (timing: MonitoringArgs["timing"]) => ({
  silenceSeconds: TIMINGS[timing].heartbeat.silenceSeconds,
  checkCron: TIMINGS[timing].heartbeat.watchCron,
});

/**
 * What ties the rules in the README to someone being woken: the postgres exporter (tenants' names
 * left out: it is on the data network tenants share), the node exporter on the node holding the
 * volumes and backups, the blackbox exporter probing every active tenant through Traefik and the
 * platform's services, Prometheus (its configuration and rules generated from the platform's
 * description, its series on a volume of its own), and Alertmanager mailing the operator. All on
 * the control network, so no tenant reaches Prometheus or Alertmanager; the exporter is on the data
 * network too, to reach PostgreSQL.
 */
export class Monitoring extends pulumi.ComponentResource {
  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:Monitoring", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    const p = args.namePrefix;
    const swarm = args.runtime === "swarm";
    const timing = TIMINGS[args.timing];
    const file = (key: string) => secretFilePath(args.runtime, key);
    const service = (
      part: string,
      spec: Pick<WorkloadSpec, "command"> & Partial<WorkloadSpec>,
      limits: Limits = args.limits.agent,
    ) =>
      dockerWorkload(
        `${name}-${part}`,
        {
          runtime: args.runtime,
          endpointMode: args.swarmEndpointMode,
          name: `${p}-${part}`,
          image: args.image,
          labels: args.labels,
          networks: [args.controlNetwork],
          placement: swarm ? [args.volumeNode!] : undefined,
          limits,
          running: true,
          ...spec,
        },
        child,
      );

    const at = (part: string, port: number) => `${p}-${part}:${port}`;
    const blackbox = at("blackbox", 9115);
    service("blackbox", {
      command: [
        "prometheus-blackbox-exporter",
        `--config.file=${file("BLACKBOX_CONFIG")}`,
        "--web.listen-address=:9115",
      ],
      secretFileEnv: {
        BLACKBOX_CONFIG: JSON.stringify(
          blackboxConfig({
            verifyTls: args.verifyTls,
            timeoutSeconds: Math.max(1, timing.timeoutSeconds - 1),
          }),
        ),
      },
    });

    service("postgres-exporter", {
      command: [
        "prometheus-postgres-exporter",
        "--web.listen-address=:9187",
        // Only what names no tenant: connection counts and settings (the rules read those).
        "--disable-default-metrics",
        "--no-collector.database",
        `--extend.query-path=${file("EXPORTER_QUERIES")}`,
      ],
      networks: args.dataNetwork ? [args.controlNetwork, args.dataNetwork] : [args.controlNetwork],
      env: {
        DATA_SOURCE_URI: `${args.postgres.address}/postgres?sslmode=${args.postgres.sslMode}`,
        DATA_SOURCE_USER: args.postgres.user,
      },
      secretEnv: { DATA_SOURCE_PASS: args.postgres.password },
      secretFileEnv: { EXPORTER_QUERIES: JSON.stringify(CONNECTION_QUERIES) },
    });

    // The node holding the platform's volumes and the backup repository: its disks fill first.
    service("node-exporter", {
      command: ["prometheus-node-exporter", "--path.rootfs=/host", "--web.listen-address=:9100"],
      mounts: [{ type: "bind", source: "/", target: "/host", readOnly: true }],
    });

    const smtpUrl = pulumi.secret(pulumi.output(args.smtpUrl));
    const alertmanagerData = platformVolume(
      `${name}-alertmanager-data`,
      `${p}-alertmanager-data`,
      args.labels,
      child,
    );
    service("alertmanager", {
      command: [
        "prometheus-alertmanager",
        `--config.file=${file("ALERTMANAGER_CONFIG")}`,
        "--storage.path=/var/lib/prometheus/alertmanager",
        "--web.listen-address=:9093",
        // One Alertmanager: no gossip (it would look for a private address to announce).
        "--cluster.listen-address=",
      ],
      mounts: [{ source: alertmanagerData.name, target: "/var/lib/prometheus/alertmanager" }],
      secretFileEnv: {
        ALERTMANAGER_CONFIG: smtpUrl.apply((url) =>
          JSON.stringify(
            alertmanagerConfig({
              smtpUrl: url,
              from: args.mailFrom,
              operatorEmail: args.operatorEmail,
              smtpPasswordFile: file("SMTP_PASSWORD"),
              groupWait: timing.groupWait,
              groupInterval: timing.groupInterval,
              repeatInterval: timing.repeatInterval,
              heartbeat: {
                url: `http://${args.api.service}:${args.api.port}/monitoring/heartbeat`,
                tokenFile: file("MONITORING_TOKEN"),
                every: timing.heartbeat.every,
              },
            }),
          ),
        ),
        // Docker writes no empty file: without a user Alertmanager never reads it.
        SMTP_PASSWORD: smtpUrl.apply(
          (url) => decodeURIComponent(new URL(url).password) || "(no SMTP password: unused)",
        ),
        // What it presents to the API with the heartbeat.
        MONITORING_TOKEN: args.monitoringToken,
      },
    });

    const series = platformVolume(
      `${name}-prometheus-data`,
      `${p}-prometheus-data`,
      args.labels,
      child,
    );
    const interval = `${timing.scrapeSeconds}s`;
    service(
      "prometheus",
      {
        command: [
          "prometheus",
          `--config.file=${file("PROMETHEUS_CONFIG")}`,
          "--storage.tsdb.path=/var/lib/prometheus/metrics2",
          `--storage.tsdb.retention.time=${args.retention}`,
          `--rules.alert.resend-delay=${timing.heartbeat.resendDelay}`,
          "--web.listen-address=:9090",
        ],
        mounts: [{ source: series.name, target: "/var/lib/prometheus/metrics2" }],
        secretFileEnv: {
          PROMETHEUS_CONFIG: JSON.stringify(
            prometheusConfig({
              scrapeInterval: interval,
              scrapeTimeout: `${timing.timeoutSeconds}s`,
              evaluationInterval: interval,
              ruleFiles: [file("PROMETHEUS_RULES")],
              alertmanagers: [at("alertmanager", 9093)],
              api: swarm
                ? { tasksOf: args.api.service, port: args.api.port }
                : { targets: [`${args.api.service}:${args.api.port}`] },
              tenantTargetsUrl: `http://${args.api.service}:${args.api.port}/monitoring/tenant-targets`,
              tokenFile: file("MONITORING_TOKEN"),
              blackbox,
              edge: args.edge,
              platformProbes: args.platformProbes,
              postgresExporters: [at("postgres-exporter", 9187)],
              traefikMetrics: [args.traefikMetrics],
              nodeExporters: [at("node-exporter", 9100)],
            }),
          ),
          PROMETHEUS_RULES: JSON.stringify(alertRuleFile(ALERT_RULES, timing.forDivisor)),
          MONITORING_TOKEN: args.monitoringToken,
        },
        healthcheck: {
          // Ready once it answers a query (2.42's promtool has no `check ready`).
          tests: ["CMD", "promtool", "query", "instant", "http://127.0.0.1:9090", "vector(1)"],
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 30,
        },
      },
      args.limits.prometheus,
    );
    this.registerOutputs({});
  }
}

/**
 * The postgres exporter's one query: client connections in use, without the database each is on
 * (`pg_stat_activity_count`, which SharedPostgresConnections reads beside `pg_settings_max_connections`).
 */
const CONNECTION_QUERIES = {
  pg_stat_activity: {
    query: "SELECT count(*) AS count FROM pg_stat_activity WHERE backend_type = 'client backend'",
    metrics: [{ count: { usage: "GAUGE", description: "client connections in use" } }],
  },
};
