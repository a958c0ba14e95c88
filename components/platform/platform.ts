import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { loadCatalog } from "../../catalog";
import { GeneratedSecret } from "../tenant/generated-secret";
import { ControlApi } from "./control-api";
import { KillBill } from "./killbill";
import { heartbeatWatch, Monitoring } from "./monitoring";
import type { PlatformConfig } from "./platform-config";
import { networkRef, type PlatformPartArgs } from "./platform-part";
import { PlatformRedis } from "./platform-redis";
import { PlatformRegistry } from "./platform-registry";
import { serviceRouteLabels, type ServiceRouter } from "./route-labels";
import { SharedPostgres } from "./shared-postgres";
import { MONITOR_ROLE, PostgresMonitorRole } from "./postgres-monitor-role";
import {
  defaultMaxConnections,
  sessionPoolSize,
  transactionPoolSizes,
} from "./shared-postgres-capacity";
import { POOLER_PORT, poolerHost, SharedPostgresPooler } from "./shared-postgres-pooler";
import { swarmVolumeConstraint } from "./swarm-volume-node";
import type { TenantSettings } from "./tenant-settings";
import { Traefik } from "./traefik";

export interface PlatformArgs {
  config: PlatformConfig;
  /** PostgreSQL admin password (server's superuser, or the external server's admin role). */
  postgresAdminPassword: pulumi.Input<string>;
  /** Kill Bill's database password; required when Kill Bill is enabled. */
  killbillDatabasePassword?: pulumi.Input<string>;
  /** The CephX key tenants' filestores are mounted with; required with the cephfs backend. */
  cephfsSecret?: pulumi.Input<string>;
  /** The API's own database password on the shared server (the API enabled, PostgreSQL a container). */
  apiDatabasePassword?: pulumi.Input<string>;
  /** Secret environment of the API service (tokens, passwords…); when the API is enabled. */
  apiSecretEnv?: Record<string, pulumi.Input<string>>;
}

/**
 * The shared platform: edge, data, control and management networks, then its parts, each a
 * component of its own with `<name>-<part>` children: Traefik, the shared PostgreSQL server (or an
 * external one), Redis, Kill Bill with its database when enabled, and the API when enabled.
 */
export class Platform extends pulumi.ComponentResource {
  /** Everything a tenant stack needs, plain (exported as the `tenantSettings` output). */
  readonly tenantSettings: pulumi.Output<TenantSettings>;
  readonly postgresAdminPassword: pulumi.Output<string>;
  /** The CephX key (secret), exported as `filestoreKey`; empty with local volumes. */
  readonly filestoreKey: pulumi.Output<string>;
  readonly urls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:Platform", name, {}, opts);
    const { config } = args;
    const p = config.namePrefix;
    const child = { parent: this };
    const swarm = config.runtime === "swarm";
    if (!swarm && Object.keys(config.swarmTenantNodes).length)
      throw new Error("swarmTenantNodes places tenants on Swarm nodes: it needs runtime swarm");
    // Swarm: stateful services stay on the node holding their local volumes.
    const pinned = swarm
      ? pulumi.output(swarmVolumeConstraint(config.swarmVolumeNode))
      : pulumi.output("");
    const labels = { "odoo-saas.platform": p };
    const part: PlatformPartArgs = {
      runtime: config.runtime,
      swarmEndpointMode: config.swarmEndpointMode,
      namePrefix: p,
      volumeNode: swarm ? pinned : undefined,
      labels,
    };
    const w: Wiring = { name, config, part, child };

    const { edge, data, control } = platformNetworks(w);
    const monitored = config.monitoring.enabled ?? config.api.enabled;
    if (monitored && !config.api.enabled)
      throw new Error(
        "monitoring reads the tenants to probe from the API: it needs api.enabled (or monitoring.enabled false)",
      );

    const resolver = config.traefik.acmeEmail ? config.traefik.certResolver : undefined;
    new Traefik(
      `${name}-traefik`,
      {
        ...part,
        image: config.traefik.image,
        edgeNetwork: networkRef(edge),
        httpPort: config.traefik.httpPort,
        httpsPort: config.traefik.httpsPort,
        publishHostIp: config.traefik.publishHostIp,
        acme:
          resolver && config.traefik.acmeEmail
            ? {
                resolver,
                email: config.traefik.acmeEmail,
                ...config.traefik.acme,
              }
            : undefined,
        dashboard: config.traefik.dashboard,
        requestReadSeconds: config.traefik.requestReadSeconds,
        swarmRefreshSeconds: config.traefik.swarmRefreshSeconds,
        monitoring: monitored
          ? { controlNetwork: networkRef(control), metricsPort: TRAEFIK_METRICS_PORT }
          : undefined,
        limits: config.limits.traefik,
      },
      child,
    );
    const route = (service: string, host: string, port: number, routers: ServiceRouter[]) =>
      edge.name.apply((edgeNetwork) => ({
        ...labels,
        ...serviceRouteLabels({
          service,
          host: `${host}.${config.baseDomain}`,
          port,
          entryPoint: "websecure",
          certResolver: resolver,
          network: edgeNetwork,
          runtime: config.runtime,
          hstsSeconds: config.traefik.hstsSeconds,
          routers,
        }),
      }));

    const adminPassword = pulumi.secret(args.postgresAdminPassword);
    const { postgres, sharedPostgres } = postgresPart(w, data, adminPassword);

    new PlatformRedis(
      `${name}-redis`,
      {
        ...part,
        image: config.redis.image,
        controlNetwork: networkRef(control),
        limits: config.limits.redis,
      },
      child,
    );

    if (config.registry.enabled)
      new PlatformRegistry(
        `${name}-registry`,
        {
          ...part,
          image: config.registry.image,
          port: config.registry.port,
          publishHostIp: config.registry.publishHostIp,
          controlNetwork: networkRef(control),
          limits: config.limits.registry,
        },
        child,
      );

    const urls: Record<string, pulumi.Input<string>> = {};
    let killbill: KillBill | undefined;
    if (config.killbill.enabled) {
      if (!args.killbillDatabasePassword)
        throw new Error("killbill.enabled needs killbillDatabasePassword");
      killbill = new KillBill(
        `${name}-killbill`,
        {
          ...part,
          image: config.killbill.image,
          databaseImage: config.killbill.databaseImage,
          databasePassword: args.killbillDatabasePassword,
          testMode: config.killbill.testMode,
          controlNetwork: networkRef(control),
          kaui: config.killbill.kaui
            ? {
                image: config.killbill.kauiImage,
                route: route(`${p}-kaui`, "kaui", 8080, [{ router: `${p}-kaui` }]),
                edgeNetwork: networkRef(edge),
              }
            : undefined,
          limits: config.limits,
        },
        child,
      );
      if (config.killbill.kaui) urls.kaui = `https://kaui.${config.baseDomain}`;
    }

    const publicHttpsPort = config.traefik.publicHttpsPort ?? config.traefik.httpsPort;
    // Gateways reach the platform's API by its name on the edge and data networks.
    const wakerUrl =
      config.waker.url ?? (config.api.enabled ? `http://${p}-api:${config.api.port}` : undefined);
    this.tenantSettings = pulumi
      .all([edge.name, data.name, edge.id, data.id, pinned])
      .apply(([edgeNetwork, dataNetwork, edgeNetworkId, dataNetworkId, volumeConstraint]) => ({
        runtime: config.runtime,
        baseDomain: config.baseDomain,
        entryPoint: "websecure",
        ...(resolver ? { certResolver: resolver } : {}),
        edgeNetwork,
        dataNetwork,
        edgeNetworkId,
        dataNetworkId,
        postgres,
        filestore: config.filestore,
        dedicatedPostgresImage: config.dedicatedPostgresImage,
        tenantGatewayImage: config.tenantGatewayImage,
        ...(wakerUrl ? { waker: { ...config.waker, url: wakerUrl } } : {}),
        odooImages: config.odooImages,
        templateDatabases: config.templateDatabases,
        odooHealthcheckIntervalSeconds: config.odooHealthcheckIntervalSeconds,
        odooHealthcheckSteadySeconds: config.odooHealthcheckSteadySeconds,
        swarmEndpointMode: config.swarmEndpointMode,
        ...(volumeConstraint ? { swarmVolumeConstraint: volumeConstraint } : {}),
        ...(Object.keys(config.swarmTenantNodes).length
          ? { tenantNodes: config.swarmTenantNodes }
          : {}),
        ...(config.tenantLimitCap ? { tenantLimitCap: config.tenantLimitCap } : {}),
        ...(publicHttpsPort !== 443 ? { publicHttpsPort } : {}),
        edge: {
          hstsSeconds: config.traefik.hstsSeconds,
          maxRequestBodyBytes: config.traefik.maxRequestBodyMb * 1024 * 1024,
        },
      }));
    this.postgresAdminPassword = adminPassword;
    if (config.filestore.kind === "cephfs" && !args.cephfsSecret)
      throw new Error(
        "filestore.kind cephfs needs the CephX key: pulumi config set --secret cephfsSecret <key>",
      );
    this.filestoreKey = pulumi.secret(args.cephfsSecret ?? "");

    if (config.api.enabled)
      urls.api = controlApiPart(w, args, {
        networks: { edge, data, control },
        route: route(`${p}-api`, "api", config.api.port, apiPublicRouters(p, config.api)),
        killbillUrl: killbill?.url,
        postgres,
        sharedPostgres,
        adminPassword,
        tenantSettings: this.tenantSettings,
        filestoreKey: this.filestoreKey,
        monitoringWatch: monitored ? heartbeatWatch(config.monitoring.timing) : undefined,
      }).url;

    if (monitored)
      monitoringPart(w, args, { data, control, adminPassword, postgres, sharedPostgres });

    this.urls = pulumi.output(urls);
    this.registerOutputs({
      tenantSettings: this.tenantSettings,
      postgresAdminPassword: this.postgresAdminPassword,
      filestoreKey: this.filestoreKey,
      urls: this.urls,
    });
  }
}

/**
 * What of the API the public edge routes: only what `api.expose` names. Kill Bill on the control
 * network calls the API there, and operators come in on the host's loopback (`api.publishPort`).
 */
function apiPublicRouters(p: string, api: PlatformConfig["api"]): ServiceRouter[] {
  return [
    ...(api.expose.admin ? [{ router: `${p}-api-admin`, pathPrefix: "/admin/" }] : []),
    ...(api.expose.webhooks
      ? [{ router: `${p}-api-webhooks`, pathPrefix: "/webhooks/", rateLimit: api.webhookRateLimit }]
      : []),
  ];
}

/** Where Traefik's metrics answer, on the control network. */
const TRAEFIK_METRICS_PORT = 8082;

/** What every part of one platform is made with. */
interface Wiring {
  /** The platform component's name: its parts are `<name>-<part>`. */
  name: string;
  config: PlatformConfig;
  part: PlatformPartArgs;
  child: pulumi.CustomResourceOptions;
}

/**
 * The edge (Traefik and tenants), data (databases, no route out) and control (the control
 * plane's own services: tenants are not on it, so tenant code cannot reach the queues or billing;
 * not internal, since Kill Bill's payment plugins call out) networks.
 */
function platformNetworks({ name, config, part, child }: Wiring) {
  const swarm = config.runtime === "swarm";
  const network = (partName: string, internal: boolean) =>
    new docker.Network(
      `${name}-${partName}`,
      {
        name: `${part.namePrefix}-${partName}`,
        driver: swarm ? "overlay" : "bridge",
        attachable: swarm ? true : undefined,
        internal,
        labels: Object.entries(part.labels).map(([label, value]) => ({ label, value })),
      },
      child,
    );
  return {
    edge: network("edge", false),
    data: network("data", true),
    control: network("control", false),
  };
}

/** The shared PostgreSQL server as a container, or the external one: what tenants are told. */
function postgresPart(
  { name, config, part, child }: Wiring,
  data: docker.Network,
  adminPassword: pulumi.Output<string>,
): { postgres: TenantSettings["postgres"]; sharedPostgres?: SharedPostgres } {
  const p = part.namePrefix;
  if (config.postgres.mode !== "container")
    return {
      postgres: {
        adminHost: config.postgres.host,
        adminPort: config.postgres.port,
        adminUser: config.postgres.adminUser,
        sslMode: config.postgres.sslMode,
        tenantHost: config.postgres.host,
        maxConnections: config.postgres.maxConnections,
        tenantPort: config.postgres.port,
      },
    };
  const pg = config.postgres;
  const catalog = loadCatalog();
  const pooler = pg.pooler.enabled
    ? {
        hostPrefix: `${p}-postgres-pooler`,
        port: POOLER_PORT,
        minTransactionPoolSize: pg.pooler.minTransactionPoolSize,
      }
    : undefined;
  const maxConnections =
    pg.maxConnections ?? defaultMaxConnections(catalog, pg.sharedTenants, pooler);
  // Docker publishes no port of a container that is only on an internal network: the control
  // plane's way in is a non-internal management network, published on loopback only.
  const mgmt = new docker.Network(
    `${name}-mgmt`,
    {
      name: `${p}-mgmt`,
      driver: "bridge",
      labels: Object.entries(part.labels).map(([label, value]) => ({ label, value })),
    },
    child,
  );
  const sharedPostgres = new SharedPostgres(
    `${name}-postgres`,
    {
      ...part,
      image: pg.image,
      adminUser: pg.adminUser,
      adminPassword,
      maxConnections,
      publishPort: pg.publishPort,
      adminRelayImage: pg.adminRelayImage,
      dataNetwork: networkRef(data),
      managementNetwork: networkRef(mgmt),
      limits: config.limits.postgres,
    },
    child,
  );
  // A pooler per transaction pool size the shared plans need (PgBouncer sizes pools per process).
  for (const size of pooler ? transactionPoolSizes(catalog, pooler) : [])
    new SharedPostgresPooler(
      `${name}-postgres-pooler-${size}`,
      {
        ...part,
        image: pg.pooler.image,
        serviceName: poolerHost(pooler!, size),
        serverHost: `${p}-postgres`,
        authUser: pg.adminUser,
        authPassword: adminPassword,
        transactionPoolSize: size,
        sessionPoolSize: sessionPoolSize(catalog),
        dataNetwork: networkRef(data),
        limits: config.limits.pooler,
      },
      { ...child, dependsOn: [sharedPostgres] },
    );
  return {
    sharedPostgres,
    postgres: {
      adminHost: "127.0.0.1",
      adminPort: pg.publishPort,
      adminUser: pg.adminUser,
      sslMode: "disable",
      tenantHost: `${p}-postgres`,
      tenantPort: 5432,
      maxConnections,
      ...(pooler ? { pooler } : {}),
    },
  };
}

/** The API as a platform service, with its own database on the shared server when it is ours. */
function controlApiPart(
  { name, config, part, child }: Wiring,
  args: PlatformArgs,
  with_: {
    networks: Record<"edge" | "data" | "control", docker.Network>;
    route: pulumi.Input<Record<string, string>>;
    killbillUrl?: string;
    postgres: TenantSettings["postgres"];
    sharedPostgres?: SharedPostgres;
    adminPassword: pulumi.Output<string>;
    tenantSettings: pulumi.Output<TenantSettings>;
    filestoreKey: pulumi.Output<string>;
    monitoringWatch?: { silenceSeconds: number; checkCron: string };
  },
): ControlApi {
  const p = part.namePrefix;
  const { postgres, adminPassword } = with_;
  const container = config.postgres.mode === "container";
  if (container && !args.apiDatabasePassword && !args.apiSecretEnv?.DATABASE_URL)
    throw new Error(
      "api.enabled needs the API's database: pulumi config set --secret apiDatabasePassword <pw> (or apiDatabaseUrl)",
    );
  return new ControlApi(
    `${name}-api`,
    {
      ...part,
      image: config.api.image,
      port: config.api.port,
      publishPort: config.api.publishPort,
      relayImage: config.api.relayImage,
      customDomains: config.api.customDomains,
      route: with_.route,
      networks: {
        edge: networkRef(with_.networks.edge),
        data: networkRef(with_.networks.data),
        control: networkRef(with_.networks.control),
      },
      backupRepository: config.api.backupRepository,
      killbill: {
        url: with_.killbillUrl,
        username: config.api.killbillUsername,
        apiKey: config.api.killbillApiKey,
      },
      // In the container the API reaches the platform's PostgreSQL by name on the data network
      // (the address the platform exports is the Docker host's loopback).
      postgresAdminAddress: container
        ? `${p}-postgres:5432`
        : `${postgres.adminHost}:${postgres.adminPort}`,
      database:
        container && args.apiDatabasePassword && !args.apiSecretEnv?.DATABASE_URL
          ? {
              password: args.apiDatabasePassword,
              admin: pulumi.all([adminPassword]).apply(([password]) => ({
                host: postgres.adminHost,
                port: postgres.adminPort,
                user: postgres.adminUser,
                password,
                sslMode: "disable" as const,
              })),
              host: `${p}-postgres:5432`,
              dependsOn: with_.sharedPostgres ? [with_.sharedPostgres] : [],
            }
          : undefined,
      tenantSettings: with_.tenantSettings,
      postgresAdminPassword: adminPassword,
      filestoreKey: config.filestore.kind === "cephfs" ? with_.filestoreKey : undefined,
      stateBackend: config.api.stateBackend,
      backupAgentImage: config.api.backupAgentImage,
      edgeProbe: `https://${p}-traefik:${config.traefik.httpsPort}`,
      traefikName: `${p}-traefik`,
      operatorEmail: config.monitoring.operatorEmail,
      monitoringWatch: with_.monitoringWatch,
      secretEnv: args.apiSecretEnv ?? {},
      limits: config.limits.api,
    },
    child,
  );
}

/** Prometheus, Alertmanager and the exporters, reading what the other parts are. */
function monitoringPart(
  { name, config, part, child }: Wiring,
  args: PlatformArgs,
  with_: {
    data: docker.Network;
    control: docker.Network;
    adminPassword: pulumi.Output<string>;
    postgres: TenantSettings["postgres"];
    sharedPostgres?: SharedPostgres;
  },
): Monitoring {
  const p = part.namePrefix;
  const m = config.monitoring;
  const token = args.apiSecretEnv?.MONITORING_TOKEN;
  const smtpUrl = args.apiSecretEnv?.SMTP_URL;
  if (!token)
    throw new Error(
      "monitoring needs the token Prometheus lists tenants with: pulumi config set --secret apiMonitoringToken <token>",
    );
  if (!smtpUrl)
    throw new Error(
      "monitoring mails alerts through the API's SMTP server: pulumi config set --secret apiSmtpUrl smtp://…",
    );
  if (!m.operatorEmail)
    throw new Error(
      "monitoring mails alerts to the operator: pulumi config set --path monitoring.operatorEmail ops@example.com",
    );
  const pg = config.postgres;
  // The exporter's own pg_monitor role, made through the administrator's way in.
  const monitorPassword = new GeneratedSecret(`${name}-postgres-monitor-password`, {}, child).value;
  const monitorRole = new PostgresMonitorRole(
    `${name}-postgres-monitor-role`,
    {
      admin: with_.adminPassword.apply((password) => ({
        host: with_.postgres.adminHost,
        port: with_.postgres.adminPort,
        user: with_.postgres.adminUser,
        password,
        sslMode: with_.postgres.sslMode,
      })),
      password: monitorPassword,
    },
    { ...child, dependsOn: with_.sharedPostgres ? [with_.sharedPostgres] : [] },
  );
  const http = (service: string, url: string) => ({
    service,
    module: "http_2xx" as const,
    target: url,
  });
  return new Monitoring(
    `${name}-monitoring`,
    {
      ...part,
      image: m.image,
      retention: m.retention,
      timing: m.timing,
      controlNetwork: networkRef(with_.control),
      dataNetwork: pg.mode === "container" ? networkRef(with_.data) : undefined,
      api: { service: `${p}-api`, port: config.api.port },
      monitoringToken: token,
      smtpUrl,
      operatorEmail: m.operatorEmail,
      mailFrom: m.mailFrom,
      postgres: {
        address: pg.mode === "container" ? `${p}-postgres:5432` : `${pg.host}:${pg.port}`,
        user: MONITOR_ROLE,
        password: monitorPassword,
        sslMode: pg.mode === "container" ? "disable" : pg.sslMode,
      },
      edge: `https://${p}-traefik:${config.traefik.httpsPort}`,
      verifyTls: !!config.traefik.acmeEmail,
      platformProbes: [
        http("traefik", `http://${p}-traefik:${config.traefik.httpPort}/ping`),
        http("api", `http://${p}-api:${config.api.port}/readyz`),
        { service: "redis", module: "tcp_connect", target: `${p}-redis:6379` },
        ...(config.killbill.enabled
          ? [
              // Reachable is the question here; Kill Bill's own verdict (503) is KillBillUnhealthy's.
              {
                service: "killbill",
                module: "http_answers" as const,
                target: `http://${p}-killbill:8080/1.0/healthcheck`,
              },
            ]
          : []),
        ...(config.registry.enabled
          ? [
              {
                service: "registry",
                module: "tcp_connect" as const,
                target: `${p}-registry:${config.registry.port}`,
              },
            ]
          : []),
      ],
      traefikMetrics: `${p}-traefik:${TRAEFIK_METRICS_PORT}`,
      limits: { prometheus: config.limits.prometheus, agent: config.limits.monitoringAgent },
    },
    { ...child, dependsOn: [monitorRole] },
  );
}
