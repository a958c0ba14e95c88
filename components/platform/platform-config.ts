import { z } from "zod";
import { DEFAULT_EDGE_POLICY, ODOO_MAX_REQUEST_BODY_MB } from "../edge-policy";
import { filestoreBackendSchema } from "../tenant/filestore";
import { ODOO_VERSIONS } from "../tenant/odoo-versions";

const image = z.string().min(1);
/** A service's CPU and memory limits; either may be set alone (the other keeps its default). */
const limits = (defaults: { cpus: number; memoryMb: number }) =>
  z
    .strictObject({
      cpus: z.number().positive().max(256).default(defaults.cpus),
      memoryMb: z.number().int().min(64).default(defaults.memoryMb),
    })
    .prefault({});

/**
 * The platform stack's settings (`pulumi config`, namespace `odoo-saas-platform`), validated at
 * once so a mistake is reported with every problem and the key it is under.
 */
export const platformConfigSchema = z.strictObject({
  baseDomain: z
    .string()
    .regex(/^([a-z0-9-]+\.)+[a-z]{2,63}$/, "a DNS domain such as odoo.example.com"),
  runtime: z.enum(["container", "swarm"]).default("container"),
  /**
   * Swarm: how services are reached by name. `vip` (Docker's default) needs IPVS in the kernel;
   * `dnsrr` (DNS round-robin over the tasks) works without it (some sandboxes and gVisor).
   */
  swarmEndpointMode: z.enum(["vip", "dnsrr"]).default("vip"),
  /**
   * Swarm: the node (id or hostname) whose local volumes hold the platform's and tenants' data;
   * stateful services are pinned to it. Default: the node the control plane's engine is.
   */
  swarmVolumeNode: z.string().min(1).optional(),
  /**
   * Swarm on several nodes: the nodes tenants run on, by hostname, each with the Docker endpoint
   * of its own engine as the control plane reaches it (`tcp://10.0.0.5:2375`, `unix:///…`). A new
   * tenant is placed on the one with the fewest tenants; its local volumes are made through that
   * engine and it stays pinned there. Empty: every tenant on `swarmVolumeNode`.
   */
  swarmTenantNodes: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, "a node's hostname"),
      z.string().regex(/^(unix|tcp):\/\/./, "a Docker endpoint: unix:///… or tcp://host:port"),
    )
    .default({}),
  /** Prefix of every platform-level name (networks, services). */
  namePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,20}$/)
    .default("saas"),
  traefik: z
    .strictObject({
      // v3.6.1+ negotiates the Docker API version; older ones are refused by Docker Engine 29+.
      image: image.default("traefik:v3.6"),
      /** ACME account e-mail; without it no certificate resolver is configured. */
      acmeEmail: z.email().optional(),
      certResolver: z.string().default("letsencrypt"),
      /** The ACME certificate authority tenants' certificates come from (docs/edge.md#certificates). */
      acme: z
        .strictObject({
          /** Its directory: Let's Encrypt by default (its staging directory while trying things out). */
          caServer: z.url().default("https://acme-v02.api.letsencrypt.org/directory"),
          /**
           * How it checks the platform serves a host: on the HTTPS port (`tls-alpn-01`) or the HTTP
           * one (`http-01`). Both need the host's DNS pointed at the platform; neither does wildcards.
           */
          challenge: z.enum(["tls-alpn-01", "http-01"]).default("tls-alpn-01"),
          /** PEM root(s) of the ACME server's own HTTPS certificate, when no public CA signed it. */
          caCertificates: z.string().min(1).optional(),
          /** An ACME profile the server offers (Let's Encrypt: `shortlived`), when not its default. */
          profile: z.string().min(1).optional(),
          /** How long its certificates last, in hours: Traefik renews by it (90 days by default). */
          certificatesDurationHours: z.number().int().min(1).optional(),
        })
        .prefault({}),
      dashboard: z.boolean().default(false),
      /**
       * Swarm: how often Traefik reads the services and their tasks (its swarm provider polls; it
       * sees no events). A restarted or moved tenant's new task is routed at the next read, so
       * this bounds the gap after every restart; Traefik's own default is 15 s.
       */
      swarmRefreshSeconds: z.number().int().min(1).max(60).default(5),
      /** Host ports of the web (HTTP, redirects to HTTPS) and websecure entry points. */
      httpPort: z.number().int().default(80),
      httpsPort: z.number().int().default(443),
      /** Host address they are published on (container runtime); default every address. */
      publishHostIp: z.string().optional(),
      /**
       * The HTTPS port customers reach tenants on, when a load balancer in front maps another one
       * (default `httpsPort`). When it is not 443 it is part of every tenant's URL.
       */
      publicHttpsPort: z.number().int().positive().optional(),
      /** Strict-Transport-Security max-age on the platform's own hosts (tenants', api, kaui); 0: off. */
      hstsSeconds: z.number().int().min(0).default(DEFAULT_EDGE_POLICY.hstsSeconds),
      /** Largest request body passed to a tenant (413 above): Odoo's own limit by default. */
      maxRequestBodyMb: z.number().int().min(1).default(ODOO_MAX_REQUEST_BODY_MB),
      /**
       * How long a client may take to send a whole request, its body included (Traefik's own
       * default, 60 s, cuts a 128 MiB upload on anything under 18 Mbit/s).
       */
      requestReadSeconds: z.number().int().min(10).default(600),
    })
    .prefault({}),
  // No `mode` (or no block at all) is the container: an operator who only sets
  // `postgres.image` or `postgres.maxConnections` means the server the platform runs.
  postgres: z.preprocess(
    (v) =>
      v === undefined
        ? { mode: "container" }
        : typeof v === "object" && v !== null && !("mode" in v)
          ? { mode: "container", ...v }
          : v,
    z.discriminatedUnion("mode", [
      z.strictObject({
        mode: z.literal("container"),
        image: image.default("postgres:16"),
        adminUser: z.string().default("saas_admin"),
        /**
         * The control plane reaches the server on this port of the Docker host's loopback (never
         * another address): published from a management network (container runtime) or by a
         * relay container on the data network (Swarm).
         */
        publishPort: z.number().int().default(5432),
        /** The Swarm relay's image (socat; its arguments are socat's). */
        adminRelayImage: image.default("alpine/socat:latest"),
        /** Default: room for `sharedTenants` tenants at the largest shared plan's limit, plus a reserve. */
        maxConnections: z.number().int().min(20).optional(),
        sharedTenants: z.number().int().min(1).default(10),
        /**
         * PgBouncer between tenants' Odoo and the server (images/pgbouncer; push it to the
         * cluster's registry): about twice as many small tenants per max_connections. Backups,
         * moves and the control plane still connect directly. See docs/tenants.md.
         */
        pooler: z
          .strictObject({
            enabled: z.boolean().default(false),
            image: image.default("odoo-saas/pgbouncer:latest"),
            /**
             * The smallest transaction pool (server connections per tenant database); a plan gets
             * one more than its cron workers when that is larger (docs/tenants.md#the-pooler).
             */
            minTransactionPoolSize: z.number().int().min(1).max(32).default(2),
          })
          .prefault({}),
      }),
      z.strictObject({
        mode: z.literal("external"),
        host: z.string().min(1),
        port: z.number().int().default(5432),
        adminUser: z.string().min(1),
        sslMode: z.enum(["disable", "require", "verify-ca", "verify-full"]).default("require"),
        /** The external server's max_connections: tenants are admitted up to it. */
        maxConnections: z.number().int().min(20),
      }),
    ]),
  ),
  redis: z.strictObject({ image: image.default("redis:7") }).prefault({}),
  /**
   * An image registry for a cluster of several nodes (images/registry), off by default: every
   * node's engine pulls from `<node>:<port>` (docs/platform.md#a-registry-for-a-cluster).
   */
  registry: z
    .strictObject({
      enabled: z.boolean().default(false),
      image: image.default("odoo-saas/registry:latest"),
      port: z.number().int().default(5000),
      /** Where the container runtime publishes it (Swarm: every address of its node). */
      publishHostIp: z.string().default("127.0.0.1"),
    })
    .prefault({}),
  killbill: z
    .strictObject({
      enabled: z.boolean().default(false),
      /**
       * Kill Bill 0.22.26 on Java 17 as images/build.sh makes it (images/killbill; push it to the
       * cluster's registry): it reads its database settings from KILLBILL_DB_* and loads its
       * schema on first start.
       */
      image: image.default("odoo-saas/killbill:0.22.26"),
      /** Kill Bill's PostgreSQL (our images/postgres, or the official image). */
      databaseImage: image.default("postgres:16"),
      /** Kill Bill's test clock: staging and tests only. */
      testMode: z.boolean().default(false),
      /**
       * Kill Bill's admin UI at `kaui.<domain>`. Off: no Kaui war or image is obtainable here
       * (Maven Central has no kaui-standalone), so it is declared only, never run.
       */
      kaui: z.boolean().default(false),
      kauiImage: image.default("killbill/kaui:3.0.23"),
    })
    .prefault({}),
  api: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** The API image images/build.sh makes (images/api; push it to the cluster's registry). */
      image: image.default("odoo-saas/api:latest"),
      port: z.number().int().default(3000),
      /**
       * The operator's way in (the CLI, `/admin`): the API on this port of the Docker host's
       * loopback only, published directly (container runtime) or by a relay on the control plane's
       * node (Swarm). Reach it from elsewhere through SSH or a VPN, never the public edge.
       */
      publishPort: z.number().int().default(3000),
      /** Swarm: the relay that publishes it on loopback (socat; its arguments are socat's). */
      relayImage: image.default("alpine/socat:latest"),
      /**
       * What of the API the public edge routes at `api.<domain>`: nothing by default. `admin`:
       * `/admin` (still behind the admin token); `webhooks`: `/webhooks/` for a Kill Bill that is
       * not on the control network, rate-limited per source address.
       */
      expose: z
        .strictObject({ admin: z.boolean().default(false), webhooks: z.boolean().default(false) })
        .prefault({}),
      /**
       * The platform's public addresses (what customers' domains must resolve to, alone) and the
       * DNS servers that check them (default the system's). No addresses: custom domains cannot
       * be verified (the API refuses, saying so).
       */
      customDomains: z
        .strictObject({
          publicAddresses: z.array(z.union([z.ipv4(), z.ipv6()])).default([]),
          dnsServers: z.array(z.string().min(1)).default([]),
        })
        .prefault({}),
      /** Requests per second (and burst) one source address may make to the exposed webhook path. */
      webhookRateLimit: z
        .strictObject({
          average: z.number().int().min(1).default(20),
          burst: z.number().int().min(1).default(40),
        })
        .prefault({}),
      /** The Kill Bill tenant the API reads (its secret: the `apiKillbillApiSecret` config). */
      killbillApiKey: z.string().min(1).default("odoo-saas"),
      killbillUsername: z.string().min(1).default("admin"),
      /**
       * Pulumi state of the tenant stacks; default file:// on the API's state volume. Use a
       * postgres:// or object-storage backend to run more than one API process, or a CLI elsewhere.
       */
      stateBackend: z.string().optional(),
      /** The backup agent the API runs next to tenants (images/backup-agent; restic + pg tools). */
      backupAgentImage: image.default("odoo-saas/backup-agent:latest"),
      /** The restic repository: a path on the Docker host (bind-mounted at the same path), or a URL. */
      backupRepository: z.string().min(1).default("/var/lib/odoo-saas/backups"),
    })
    .prefault({}),
  /**
   * Prometheus, Alertmanager and exporters on the control network (components/platform/
   * monitoring.ts, docs/monitoring.md). Default: on whenever the API is (a deployed control plane
   * is a monitored one).
   */
  monitoring: z
    .strictObject({
      enabled: z.boolean().optional(),
      /** images/monitoring: Debian's Prometheus, Alertmanager and exporters. */
      image: image.default("odoo-saas/monitoring:latest"),
      /** How long Prometheus keeps its series (its own volume holds them). */
      retention: z
        .string()
        .regex(/^\d+[hdwy]$/, "a duration such as 30d")
        .default("30d"),
      /**
       * The operator's address: alerts are mailed there through the API's SMTP server
       * (`apiSmtpUrl`), and so are the API's own mails to the operator (its OPERATOR_EMAIL).
       */
      operatorEmail: z.email().optional(),
      mailFrom: z.string().min(3).default("odoo-saas alerts <alerts@localhost>"),
      /**
       * `production`: scrapes and rules every 15 s, rules' waits as written (a tenant down is
       * mailed within 4 minutes). `test`: every 3 s and every wait divided by 30, so a test sees
       * an alert in seconds. Never `test` in production: it pages on every blip.
       */
      timing: z.enum(["production", "test"]).default("production"),
    })
    .prefault({}),
  filestore: filestoreBackendSchema.prefault({ kind: "local" }),
  odooImages: z.partialRecord(z.enum(ODOO_VERSIONS), image).default({}),
  templateDatabases: z.partialRecord(z.enum(ODOO_VERSIONS), z.string()).default({}),
  dedicatedPostgresImage: image.default("postgres:16"),
  /**
   * Each tenant's gateway, the one container on both its own network and the platform's
   * (images/tenant-gateway; push it to the cluster's registry).
   */
  tenantGatewayImage: image.default("odoo-saas/tenant-gateway:latest"),
  /**
   * Where tenants' gateways wake a sleeping tenant (the API, as gateways reach it on the edge
   * and data networks): the platform's own API when it runs one; set `url` for an API run
   * elsewhere. With neither, gateways only forward and no tenant sleeps.
   */
  waker: z
    .strictObject({
      url: z.url().optional(),
      /** How long a request waits for a waking or restarting Odoo before a 503 with Retry-After. */
      holdSeconds: z.number().int().min(5).max(600).default(60),
      /** How often a gateway reports its tenant in use (the API's idle time is this coarse). */
      activityReportSeconds: z.number().int().min(1).max(600).default(60),
    })
    .prefault({}),
  /** CPU and memory limits of the platform's own services. */
  limits: z
    .strictObject({
      traefik: limits({ cpus: 1, memoryMb: 512 }),
      postgres: limits({ cpus: 2, memoryMb: 4096 }),
      pooler: limits({ cpus: 1, memoryMb: 256 }),
      redis: limits({ cpus: 0.5, memoryMb: 512 }),
      registry: limits({ cpus: 0.5, memoryMb: 256 }),
      killbill: limits({ cpus: 2, memoryMb: 2048 }),
      killbillDb: limits({ cpus: 1, memoryMb: 1024 }),
      kaui: limits({ cpus: 1, memoryMb: 1024 }),
      api: limits({ cpus: 1, memoryMb: 1024 }),
      prometheus: limits({ cpus: 1, memoryMb: 1024 }),
      /** Each of Alertmanager and the exporters. */
      monitoringAgent: limits({ cpus: 0.25, memoryMb: 128 }),
    })
    .prefault({}),
  /**
   * Development platforms on hosts smaller than the plans: tenants' CPU (and memory) limits are
   * capped at this. Production leaves it unset; the API then refuses a plan no node can run.
   */
  tenantLimitCap: z
    .strictObject({
      cpus: z.number().positive().optional(),
      memoryMb: z.number().int().min(64).optional(),
    })
    .optional(),
  /**
   * How often Odoo's health is checked until it is healthy: Traefik routes a tenant only once it
   * is, so this is how soon a new or restarted tenant answers.
   */
  odooHealthcheckIntervalSeconds: z.number().int().min(1).max(300).default(2),
  /**
   * How often a healthy Odoo is checked: how soon one that hangs (one that exits is restarted at
   * once) is taken out of routing, and on Swarm replaced. Each check costs about 80 ms of CPU.
   */
  odooHealthcheckSteadySeconds: z.number().int().min(5).max(3600).default(120),
});

export type PlatformConfig = z.output<typeof platformConfigSchema>;
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
