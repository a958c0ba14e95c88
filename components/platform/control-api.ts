import * as pulumi from "@pulumi/pulumi";
import { TenantDatabase } from "../tenant/tenant-database";
import { dockerWorkload, type NetworkRef } from "../workload";
import { loopbackRelay } from "./loopback-relay";
import { childOptions, platformVolume, type PlatformPartArgs } from "./platform-part";
import type { TenantSettings } from "./tenant-settings";

/** Where the API's workspaces and default (file://) tenant state live in its container. */
export const API_DATA_DIR = "/var/lib/odoo-saas/work";

export interface ControlApiArgs extends PlatformPartArgs {
  /** The API image images/build.sh makes (images/api). */
  image: string;
  port: number;
  /** The operator's way in: the API on this port of the Docker host's loopback. */
  publishPort: number;
  /** Swarm: the relay that publishes it there (socat). */
  relayImage: string;
  /** The public edge's routes of it at `api.<domain>` (none by default). */
  route: pulumi.Input<Record<string, string>>;
  networks: { edge: NetworkRef; data: NetworkRef; control: NetworkRef };
  /** The Docker host's path or URL of the restic repository (a path is bind-mounted as is). */
  backupRepository: string;
  killbill: { url?: string; username: string; apiKey: string };
  /** Where the API reaches the platform's PostgreSQL (by name on the data network). */
  postgresAdminAddress: string;
  /**
   * The API's own database on the shared PostgreSQL, created here: its role's password. Absent:
   * the operator gives DATABASE_URL (an external server).
   */
  database?: {
    password: pulumi.Input<string>;
    admin: pulumi.Input<{
      host: string;
      port: number;
      user: string;
      password: string;
      sslMode: "disable" | "require" | "verify-ca" | "verify-full";
    }>;
    /** The server as the API reaches it. */
    host: string;
    /** The server itself (its database goes before it does). */
    dependsOn: pulumi.Resource[];
  };
  /** What tenant programs read of the platform, handed to the API (no access to this stack's state). */
  tenantSettings: pulumi.Input<TenantSettings>;
  postgresAdminPassword: pulumi.Input<string>;
  /** The CephX key tenants' filestores are mounted with (the cephfs backend only). */
  filestoreKey?: pulumi.Input<string>;
  /** Pulumi state of the tenant stacks; file:// on the API's volume by default. */
  stateBackend?: string;
  /** The backup agent the API runs next to tenants (images/backup-agent). */
  backupAgentImage: string;
  /** What customers' domains must resolve to, and the DNS servers that check them. */
  customDomains: { publicAddresses: string[]; dnsServers: string[] };
  /** How the API reaches the edge to see a tenant answer (Traefik by name on the edge network). */
  edgeProbe: string;
  /** Traefik's container or service: the API reads why certificates were refused in its log. */
  traefikName: string;
  /** Where the API mails the operator (failed reconciles, billing problems, a silent monitoring). */
  operatorEmail?: string;
  /** The monitoring's heartbeat the API watches (monitoring.ts); none without monitoring. */
  monitoringWatch?: { silenceSeconds: number; checkCron: string };
  /** Secret variables from the stack's config (tokens, passwords, SMTP…). */
  secretEnv: Record<string, pulumi.Input<string>>;
  limits: { cpus: number; memoryMb: number };
}

/**
 * The API (and its workers) as a platform service: it reaches Redis and Kill Bill on the control
 * network, tenants' databases on the data network, the engine through the Docker socket, and is
 * routed at `api.<domain>`. It gets everything from the platform: its database on the shared
 * PostgreSQL, what tenant programs read of the platform, its secrets (Docker secret files on
 * Swarm), its state on a volume, the backup repository at the host's path. Healthy once `/readyz`
 * answers. Kill Bill's callback points at it on the control network (it registers it at start).
 */
export class ControlApi extends pulumi.ComponentResource {
  readonly url: string;

  constructor(name: string, args: ControlApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:Api", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    const p = args.namePrefix;
    const work = platformVolume(`${name}-work`, `${p}-api-work`, args.labels, child);
    const ownDatabase = args.database
      ? new TenantDatabase(
          `${name}-database`,
          {
            admin: args.database.admin,
            role: "odoo_saas_api",
            password: pulumi.secret(args.database.password),
            database: "odoo_saas_api",
            connectionLimit: 50,
          },
          { parent: this, dependsOn: args.database.dependsOn },
        )
      : undefined;
    const databaseUrl = args.database
      ? pulumi.secret(
          pulumi
            .output(args.database.password)
            .apply(
              (pw) =>
                `postgres://odoo_saas_api:${encodeURIComponent(pw)}@${args.database!.host}/odoo_saas_api`,
            ),
        )
      : undefined;
    const backupsOnHost = args.backupRepository.startsWith("/");
    dockerWorkload(
      name,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: `${p}-api`,
        placement: args.runtime === "swarm" ? [args.volumeNode!] : undefined,
        limits: args.limits,
        image: args.image,
        env: {
          HOST: "0.0.0.0",
          PORT: String(args.port),
          REDIS_URL: `redis://${p}-redis:6379`,
          ...(args.killbill.url ? { KILLBILL_URL: args.killbill.url } : {}),
          KILLBILL_USERNAME: args.killbill.username,
          KILLBILL_API_KEY: args.killbill.apiKey,
          // Kill Bill calls back on the control network, by the API's name.
          KILLBILL_CALLBACK_BASE: `http://${p}-api:${args.port}`,
          ODOO_SAAS_DATA_DIR: API_DATA_DIR,
          ...(args.stateBackend ? { PULUMI_BACKEND_URL: args.stateBackend } : {}),
          ODOO_SAAS_PLATFORM_SETTINGS: pulumi
            .output(args.tenantSettings)
            .apply((s) => JSON.stringify(s)),
          ODOO_SAAS_POSTGRES_ADMIN_ADDRESS: args.postgresAdminAddress,
          BACKUP_REPOSITORY: args.backupRepository,
          BACKUP_AGENT_IMAGE: args.backupAgentImage,
          EDGE_PROBE: args.edgeProbe,
          TRAEFIK_NAME: args.traefikName,
          PLATFORM_PUBLIC_ADDRESSES: args.customDomains.publicAddresses.join(","),
          DOMAIN_DNS_SERVERS: args.customDomains.dnsServers.join(","),
          ...(args.operatorEmail ? { OPERATOR_EMAIL: args.operatorEmail } : {}),
          ...(args.monitoringWatch
            ? {
                MONITORING_SILENCE_SECONDS: String(args.monitoringWatch.silenceSeconds),
                MONITORING_WATCH_CRON: args.monitoringWatch.checkCron,
              }
            : {}),
        },
        secretEnv: {
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          ODOO_SAAS_PLATFORM_POSTGRES_ADMIN_PASSWORD: args.postgresAdminPassword,
          ...(args.filestoreKey ? { ODOO_SAAS_PLATFORM_FILESTORE_KEY: args.filestoreKey } : {}),
          ...args.secretEnv,
        },
        labels: args.route,
        networks: [args.networks.edge, args.networks.data, args.networks.control],
        mounts: [
          // Workspaces and the default file:// state of the tenant stacks.
          { source: work.name, target: API_DATA_DIR },
          // Tenant stacks, one-shots and backup agents run on this engine.
          { type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" },
          // The backup agent bind-mounts a local repository from the host: the same path here.
          ...(backupsOnHost
            ? [
                {
                  type: "bind" as const,
                  source: args.backupRepository,
                  target: args.backupRepository,
                },
              ]
            : []),
        ],
        ports:
          args.runtime === "swarm"
            ? undefined
            : [{ internal: args.port, external: args.publishPort, hostIp: "127.0.0.1" }],
        healthcheck: {
          tests: [
            "CMD",
            "node",
            "-e",
            `fetch("http://127.0.0.1:${args.port}/readyz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
          ],
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 30,
        },
        running: true,
      },
      { ...child, dependsOn: ownDatabase ? [ownDatabase] : [] },
    );
    if (args.runtime === "swarm")
      loopbackRelay(
        `${name}-relay`,
        {
          containerName: `${p}-api-relay`,
          image: args.relayImage,
          target: { host: `${p}-api`, port: args.port },
          publishPort: args.publishPort,
          networks: [args.networks.control],
          labels: args.labels,
        },
        child,
      );
    this.url = `http://127.0.0.1:${args.publishPort}`;
    this.registerOutputs({ url: this.url });
  }
}
