import * as docker from "@pulumi/docker";
import { loadCatalog } from "../../catalog";
import { defaultMaxConnections } from "./shared-postgres-capacity";
import { swarmVolumeConstraint } from "./swarm-volume-node";
import { postgresDataPath } from "../postgres-data-path";
import * as pulumi from "@pulumi/pulumi";
import { dockerWorkload, type NetworkRef, type Runtime } from "../workload";
import type { PlatformConfig } from "./platform-config";
import { serviceRouteLabels, traefikCommand, traefikHealthcheckTests } from "./route-labels";
import type { TenantSettings } from "./tenant-settings";

export interface PlatformArgs {
  config: PlatformConfig;
  /** PostgreSQL admin password (server's superuser, or the external server's admin role). */
  postgresAdminPassword: pulumi.Input<string>;
  /** Kill Bill's MariaDB password; required when Kill Bill is enabled. */
  killbillDatabasePassword?: pulumi.Input<string>;
  /** The CephX key tenants' filestores are mounted with; required with the cephfs backend. */
  cephfsSecret?: pulumi.Input<string>;
  /** Secret environment of the API service (DATABASE_URL, tokens...); when the API is enabled. */
  apiSecretEnv?: Record<string, pulumi.Input<string>>;
}

/**
 * The shared platform: edge and data networks, Traefik, the shared PostgreSQL server (or an
 * external one), Redis, Kill Bill with MariaDB and Kaui when enabled, and the API.
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
    const runtime: Runtime = config.runtime;
    const p = config.namePrefix;
    const child = { parent: this };
    const swarm = runtime === "swarm";
    // Swarm: stateful services stay on the node holding their local volumes.
    const pinned = swarm
      ? pulumi.output(swarmVolumeConstraint(config.swarmVolumeNode))
      : pulumi.output("");
    const onVolumeNode = swarm ? [pinned] : undefined;
    const labels = { "odoo-saas.platform": p };
    const labelList = Object.entries(labels).map(([label, value]) => ({ label, value }));

    const network = (part: string, internal: boolean) =>
      new docker.Network(
        `${name}-${part}`,
        {
          name: `${p}-${part}`,
          driver: swarm ? "overlay" : "bridge",
          attachable: swarm ? true : undefined,
          // The data network has no route out: databases and caches only talk to tenants.
          internal,
          labels: labelList,
        },
        child,
      );
    const ref = (n: docker.Network): NetworkRef => ({ name: n.name, id: n.id });
    const edge = network("edge", false);
    const data = network("data", true);
    // The control plane's own services (Redis, Kill Bill and its database, the API): tenants are
    // not on it, so tenant code cannot reach the queues or billing. Not internal: Kill Bill's
    // payment plugins call out.
    const control = network("control", false);
    const volume = (part: string) =>
      new docker.Volume(`${name}-${part}`, { name: `${p}-${part}`, labels: labelList }, child);

    const resolver = config.traefik.acmeEmail ? config.traefik.certResolver : undefined;
    const letsencrypt = volume("traefik-acme");
    dockerWorkload(
      `${name}-traefik`,
      {
        runtime,
        endpointMode: config.swarmEndpointMode,
        name: `${p}-traefik`,
        placement: swarm ? ["node.role == manager", pinned] : undefined,
        limits: config.limits.traefik,
        image: config.traefik.image,
        command: edge.name.apply((edgeNetwork) =>
          traefikCommand({
            runtime,
            edgeNetwork,
            httpPort: config.traefik.httpPort,
            httpsPort: config.traefik.httpsPort,
            certResolver: resolver,
            acmeEmail: config.traefik.acmeEmail,
            dashboard: config.traefik.dashboard,
          }),
        ),
        labels,
        networks: [ref(edge)],
        mounts: [
          {
            type: "bind",
            source: "/var/run/docker.sock",
            target: "/var/run/docker.sock",
            readOnly: true,
          },
          { source: letsencrypt.name, target: "/letsencrypt" },
        ],
        healthcheck: {
          tests: traefikHealthcheckTests(config.traefik.httpPort),
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 10,
        },
        ports: [
          {
            internal: config.traefik.httpPort,
            external: config.traefik.httpPort,
            hostIp: config.traefik.publishHostIp,
          },
          {
            internal: config.traefik.httpsPort,
            external: config.traefik.httpsPort,
            hostIp: config.traefik.publishHostIp,
          },
        ],
        running: true,
      },
      child,
    );

    const route = (router: string, host: string, port: number) =>
      edge.name.apply((network) => ({
        ...labels,
        ...serviceRouteLabels({
          router,
          host: `${host}.${config.baseDomain}`,
          port,
          entryPoint: "websecure",
          certResolver: resolver,
          network,
          runtime,
        }),
      }));

    const adminPassword = pulumi.secret(args.postgresAdminPassword);
    let postgres: TenantSettings["postgres"];
    if (config.postgres.mode === "container") {
      const pg = config.postgres;
      const maxConnections =
        pg.maxConnections ?? defaultMaxConnections(loadCatalog(), pg.sharedTenants);
      const pgData = volume("postgres-data");
      // Docker publishes no port of a container that is only on an internal network: the control
      // plane's way in is a non-internal management network, published on loopback only.
      const mgmt = new docker.Network(
        `${name}-mgmt`,
        { name: `${p}-mgmt`, driver: "bridge", labels: labelList },
        child,
      );
      const loopback = { internal: 5432, external: pg.publishPort, hostIp: "127.0.0.1" };
      dockerWorkload(
        `${name}-postgres`,
        {
          runtime,
          endpointMode: config.swarmEndpointMode,
          name: `${p}-postgres`,
          placement: onVolumeNode,
          limits: config.limits.postgres,
          image: pg.image,
          command: ["postgres", "-c", `max_connections=${maxConnections}`],
          env: { POSTGRES_USER: pg.adminUser, POSTGRES_DB: "postgres" },
          secretEnv: { POSTGRES_PASSWORD: adminPassword },
          labels,
          networks: swarm ? [ref(data)] : [ref(data), ref(mgmt)],
          mounts: [{ source: pgData.name, target: postgresDataPath(pg.image) }],
          ports: swarm ? undefined : [loopback],
          healthcheck: {
            tests: ["CMD", "pg_isready", "-U", pg.adminUser, "-d", "postgres"],
            intervalSeconds: 10,
            timeoutSeconds: 5,
            retries: 5,
            startPeriodSeconds: 30,
          },
          running: true,
        },
        child,
      );
      if (swarm) {
        // A Swarm service publishes on every address of its node: instead, a relay container on
        // the control plane's node joins the (attachable) data network and publishes on loopback.
        new docker.Container(
          `${name}-postgres-admin-relay`,
          {
            name: `${p}-postgres-admin-relay`,
            image: pg.adminRelayImage,
            command: ["TCP-LISTEN:5432,fork,reuseaddr", `TCP:${p}-postgres:5432`],
            networksAdvanced: [{ name: mgmt.name }, { name: data.name }],
            ports: [{ internal: 5432, external: pg.publishPort, ip: "127.0.0.1" }],
            labels: labelList,
            restart: "unless-stopped",
            logOpts: { "max-size": "10m", "max-file": "3" },
          },
          child,
        );
      }
      postgres = {
        adminHost: "127.0.0.1",
        adminPort: config.postgres.publishPort,
        adminUser: config.postgres.adminUser,
        sslMode: "disable",
        tenantHost: `${p}-postgres`,
        tenantPort: 5432,
        maxConnections,
      };
    } else {
      postgres = {
        adminHost: config.postgres.host,
        adminPort: config.postgres.port,
        adminUser: config.postgres.adminUser,
        sslMode: config.postgres.sslMode,
        tenantHost: config.postgres.host,
        maxConnections: config.postgres.maxConnections,
        tenantPort: config.postgres.port,
      };
    }

    const redisData = volume("redis-data");
    dockerWorkload(
      `${name}-redis`,
      {
        runtime,
        endpointMode: config.swarmEndpointMode,
        name: `${p}-redis`,
        placement: onVolumeNode,
        limits: config.limits.redis,
        image: config.redis.image,
        command: ["redis-server", "--appendonly", "yes"],
        labels,
        networks: [ref(control)],
        mounts: [{ source: redisData.name, target: "/data" }],
        healthcheck: {
          tests: ["CMD", "redis-cli", "ping"],
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 10,
        },
        running: true,
      },
      child,
    );

    const urls: Record<string, pulumi.Input<string>> = {};
    if (config.killbill.enabled) {
      if (!args.killbillDatabasePassword)
        throw new Error("killbill.enabled needs killbillDatabasePassword");
      const dbPassword = pulumi.secret(args.killbillDatabasePassword);
      const kbData = volume("killbill-db-data");
      dockerWorkload(
        `${name}-killbill-db`,
        {
          runtime,
          endpointMode: config.swarmEndpointMode,
          name: `${p}-killbill-db`,
          placement: onVolumeNode,
          limits: config.limits.killbillDb,
          image: config.killbill.mariadbImage,
          secretEnv: { MYSQL_ROOT_PASSWORD: dbPassword },
          labels,
          networks: [ref(control)],
          mounts: [{ source: kbData.name, target: "/var/lib/mysql" }],
          running: true,
        },
        child,
      );
      const dao = {
        KILLBILL_DAO_URL: `jdbc:mysql://${p}-killbill-db:3306/killbill`,
        KILLBILL_DAO_USER: "root",
      };
      dockerWorkload(
        `${name}-killbill`,
        {
          runtime,
          endpointMode: config.swarmEndpointMode,
          name: `${p}-killbill`,
          limits: config.limits.killbill,
          image: config.killbill.image,
          env: dao,
          secretEnv: { KILLBILL_DAO_PASSWORD: dbPassword },
          // The image maps KILLBILL_* variables to properties; it reads no *_FILE.
          secretFiles: false,
          labels,
          // Not routed publicly: only the API (on the control network) talks to Kill Bill.
          networks: [ref(control)],
          running: true,
        },
        child,
      );
      if (config.killbill.kaui) {
        dockerWorkload(
          `${name}-kaui`,
          {
            runtime,
            endpointMode: config.swarmEndpointMode,
            name: `${p}-kaui`,
            limits: config.limits.kaui,
            image: config.killbill.kauiImage,
            env: {
              KAUI_CONFIG_DAO_URL: `jdbc:mysql://${p}-killbill-db:3306/kaui`,
              KAUI_CONFIG_DAO_USER: "root",
              KAUI_KILLBILL_URL: `http://${p}-killbill:8080`,
            },
            secretEnv: { KAUI_CONFIG_DAO_PASSWORD: dbPassword },
            secretFiles: false,
            labels: route(`${p}-kaui`, "kaui", 8080),
            networks: [ref(edge), ref(control)],
            running: true,
          },
          child,
        );
        urls.kaui = `https://kaui.${config.baseDomain}`;
      }
    }

    if (config.api.enabled) {
      const apiData = "/var/lib/odoo-saas/work";
      const backupsOnHost = config.api.backupRepository.startsWith("/");
      // In the container the API reaches the platform's PostgreSQL by name on the data network
      // (the address the platform exports is the Docker host's loopback).
      const postgresAdminAddress =
        config.postgres.mode === "container"
          ? `${p}-postgres:5432`
          : `${config.postgres.host}:${config.postgres.port}`;
      dockerWorkload(
        `${name}-api`,
        {
          runtime,
          endpointMode: config.swarmEndpointMode,
          name: `${p}-api`,
          placement: onVolumeNode,
          limits: config.limits.api,
          image: config.api.image,
          env: {
            HOST: "0.0.0.0",
            PORT: String(config.api.port),
            REDIS_URL: `redis://${p}-redis:6379`,
            ...(config.killbill.enabled ? { KILLBILL_URL: `http://${p}-killbill:8080` } : {}),
            KILLBILL_USERNAME: config.api.killbillUsername,
            KILLBILL_API_KEY: config.api.killbillApiKey,
            ODOO_SAAS_DATA_DIR: apiData,
            ...(config.api.stateBackend ? { PULUMI_BACKEND_URL: config.api.stateBackend } : {}),
            ODOO_SAAS_PLATFORM_STACK:
              config.api.platformStack ??
              `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
            ODOO_SAAS_POSTGRES_ADMIN_ADDRESS: postgresAdminAddress,
            BACKUP_REPOSITORY: config.api.backupRepository,
          },
          secretEnv: args.apiSecretEnv,
          labels: route(`${p}-api`, "api", config.api.port),
          networks: [ref(edge), ref(data), ref(control)],
          mounts: [
            // Workspaces and the default file:// state of the tenant stacks.
            { source: volume("api-work").name, target: apiData },
            // Tenant stacks, one-shots and backup agents run on this engine.
            { type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" },
            // The backup agent bind-mounts a local repository from the host: the same path here.
            ...(backupsOnHost
              ? [
                  {
                    type: "bind" as const,
                    source: config.api.backupRepository,
                    target: config.api.backupRepository,
                  },
                ]
              : []),
          ],
          healthcheck: {
            tests: [
              "CMD",
              "node",
              "-e",
              `fetch("http://127.0.0.1:${config.api.port}/readyz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
            ],
            intervalSeconds: 10,
            timeoutSeconds: 5,
            retries: 3,
            startPeriodSeconds: 30,
          },
          running: true,
        },
        child,
      );
      urls.api = `https://api.${config.baseDomain}`;
    }

    const publicHttpsPort = config.traefik.publicHttpsPort ?? config.traefik.httpsPort;
    this.tenantSettings = pulumi
      .all([edge.name, data.name, edge.id, data.id, pinned])
      .apply(([edgeNetwork, dataNetwork, edgeNetworkId, dataNetworkId, volumeConstraint]) => ({
        runtime,
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
        odooImages: config.odooImages,
        templateDatabases: config.templateDatabases,
        odooHealthcheckIntervalSeconds: config.odooHealthcheckIntervalSeconds,
        swarmEndpointMode: config.swarmEndpointMode,
        ...(volumeConstraint ? { swarmVolumeConstraint: volumeConstraint } : {}),
        ...(config.tenantLimitCap ? { tenantLimitCap: config.tenantLimitCap } : {}),
        ...(publicHttpsPort !== 443 ? { publicHttpsPort } : {}),
      }));
    this.postgresAdminPassword = adminPassword;
    if (config.filestore.kind === "cephfs" && !args.cephfsSecret)
      throw new Error(
        "filestore.kind cephfs needs the CephX key: pulumi config set --secret cephfsSecret <key>",
      );
    this.filestoreKey = pulumi.secret(args.cephfsSecret ?? "");
    this.urls = pulumi.output(urls);
    this.registerOutputs({
      tenantSettings: this.tenantSettings,
      postgresAdminPassword: this.postgresAdminPassword,
      filestoreKey: this.filestoreKey,
      urls: this.urls,
    });
  }
}
