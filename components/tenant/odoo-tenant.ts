import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../../catalog";
import { OneShot } from "../one-shot";
import { postgresDataPath } from "../postgres-data-path";
import { VolumeRelease } from "../volume-release";
import { dockerWorkload, type Workload } from "../workload";
import { CephfsDirectory } from "./cephfs-directory";
import { DEDICATED_OWNER_SCRIPT } from "./dedicated-owner";
import { odooConfigFile, odooMasterPasswordHash } from "./odoo-config";
import { cephfsAdminPath, cephfsVolumeOptions } from "./filestore";
import { tenantNames, type TenantNames } from "./names";
import { odooCommand, odooHealthcheck, odooInitCommand, odooUpgradeCommand } from "./odoo-options";
import type { OdooVersion } from "./odoo-versions";
import { TenantDatabase } from "./tenant-database";
import type { TenantPlatform } from "./tenant-platform";
import { traefikLabels } from "./traefik-labels";

export type TenantState = "active" | "suspended";

export interface OdooTenantArgs {
  /** DNS label; names every resource of the tenant. */
  tenantId: string;
  customerId: string;
  plan: Plan;
  odooVersion: OdooVersion;
  /** `<subdomain>.<baseDomain>` is the tenant's address. */
  subdomain: string;
  /** Extra hostnames routed to the tenant (the customer points them at the platform). */
  customDomains?: string[];
  /** suspended: not running (no container / 0 replicas), database and filestore kept. */
  state: TenantState;
  /** Odoo image for the tenant's version. */
  odooImage: pulumi.Input<string>;
  /** Database to clone (a pre-initialised per-version template); initialised with `-i base` otherwise. */
  templateDatabase?: pulumi.Input<string>;
  /** Password of the tenant's database role (kept as a secret). */
  databasePassword: pulumi.Input<string>;
  /** Superuser password of a dedicated PostgreSQL server (dedicated plans only; never Odoo's). */
  databaseSuperuserPassword?: pulumi.Input<string>;
  /** Odoo's master password (`admin_passwd`); Odoo gets only its hash. */
  odooMasterPassword?: pulumi.Input<string>;
  platform: TenantPlatform;
}

const LABEL_PREFIX = "odoo-saas";

interface DatabaseEndpoint {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** What Odoo's runtime and the initialisation wait for. */
  ready: pulumi.Resource[];
  /** Changes when the database is created anew, so its initialisation runs again. */
  generation: pulumi.Input<string>;
  /** false when the database starts as a clone of an initialised template. */
  needsInit: boolean;
}

/** One customer's Odoo: database and role, filestore volume, runtime and its Traefik routing. */
export class OdooTenant extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly hosts: pulumi.Output<string[]>;
  readonly databaseName: pulumi.Output<string>;
  readonly databaseRole: pulumi.Output<string>;
  readonly databasePassword: pulumi.Output<string>;
  /** Where the database is reached from the data network (backups connect there). */
  readonly databaseHost: pulumi.Output<string>;
  readonly databasePort: pulumi.Output<number>;
  readonly runtimeName: pulumi.Output<string>;
  readonly volumeName: pulumi.Output<string>;
  /** undefined while a container-runtime tenant is suspended. */
  readonly runtime: Workload;

  constructor(name: string, args: OdooTenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:tenant:OdooTenant", name, {}, opts);
    const names = tenantNames(args.customerId, args.tenantId);
    const { plan, platform } = args;
    const child = { parent: this };
    // Only what never changes for a tenant: labels of volumes are replace-on-change.
    const ownership = {
      [`${LABEL_PREFIX}.tenant`]: args.tenantId,
      [`${LABEL_PREFIX}.customer`]: args.customerId,
    };
    const password = pulumi.secret(args.databasePassword);

    const database =
      plan.database.placement === "dedicated"
        ? this.dedicatedDatabase(name, names, args, password, ownership)
        : this.sharedDatabase(name, names, args, password);

    const volumeArgs = this.filestoreVolumeArgs(name, args);
    const volume = new docker.Volume(
      `${name}-filestore`,
      {
        name: names.volume,
        driver: "local",
        driverOpts: volumeArgs.driverOpts,
        labels: Object.entries(ownership).map(([label, value]) => ({ label, value })),
      },
      // The customer's files: never replaced behind the operator's back (a backend change is a
      // migration, not a diff); removed only when the tenant is destroyed. The CephFS options
      // carry the CephX key: kept encrypted in the state.
      {
        ...child,
        ignoreChanges: ["driver", "driverOpts", "labels"],
        additionalSecretOutputs: ["driverOpts"],
        dependsOn: volumeArgs.dependsOn,
      },
    );
    // On destroy: the runtime goes, then this waits until nothing uses the volume, then the volume.
    const filestoreReleased = new VolumeRelease(
      `${name}-filestore-release`,
      { volume: volume.name },
      { ...child, dependsOn: [volume] },
    );
    const filestore = {
      source: volume.name,
      target: "/var/lib/odoo",
      driver: "local",
      driverOptions: volumeArgs.driverOpts,
    };
    const connection = {
      HOST: database.host,
      PORT: pulumi.interpolate`${database.port}`,
      USER: names.role,
    };

    // Odoo refuses to serve a database that was never initialised, and with the database list
    // off nothing else can initialise it: `-i base` runs once, before the runtime starts.
    const init = database.needsInit
      ? new OneShot(
          `${name}-init`,
          {
            image: args.odooImage,
            command: odooInitCommand(names.database),
            env: { ...connection, PASSWORD: password },
            networks: [platform.dataNetwork.name],
            mounts: [{ source: volume.name, target: filestore.target }],
            labels: ownership,
            triggers: { database: database.generation },
          },
          { ...child, dependsOn: database.ready },
        )
      : undefined;

    // A new build of the tenant's Odoo image (same version): its modules are updated once, by the
    // new image, before the runtime is replaced with it. If the update fails, the runtime keeps
    // the old image (it waits on this) and the up fails; a rollout restores the database.
    const upgrade = new OneShot(
      `${name}-upgrade`,
      {
        image: args.odooImage,
        command: odooUpgradeCommand(names.database),
        env: { ...connection, PASSWORD: password },
        networks: [platform.dataNetwork.name],
        mounts: [{ source: volume.name, target: filestore.target }],
        labels: ownership,
        triggers: { image: args.odooImage },
        runOnCreate: false,
      },
      { ...child, dependsOn: [...database.ready, ...(init ? [init] : [])] },
    );

    this.hosts = pulumi
      .output(platform.baseDomain)
      .apply((domain) => [`${args.subdomain}.${domain}`, ...(args.customDomains ?? [])]);
    const routing = pulumi
      .all([this.hosts, platform.edgeNetwork.name, platform.entryPoint, platform.certResolver])
      .apply(([hosts, network, entryPoint, certResolver]) => ({
        ...ownership,
        [`${LABEL_PREFIX}.plan`]: plan.id,
        ...traefikLabels({
          router: names.router,
          hosts,
          odooVersion: args.odooVersion,
          entryPoint,
          certResolver,
          network,
          runtime: platform.runtime,
        }),
      }));

    this.runtime = dockerWorkload(
      `${name}-odoo`,
      {
        runtime: platform.runtime,
        endpointMode: platform.swarmEndpointMode,
        name: names.runtime,
        image: args.odooImage,
        command: odooCommand(plan, names.database),
        env: connection,
        secretEnv: { PASSWORD: password },
        ...(args.odooMasterPassword
          ? {
              secretFileEnv: {
                ODOO_RC: pulumi
                  .secret(args.odooMasterPassword)
                  .apply((p) => odooConfigFile(odooMasterPasswordHash(p, args.tenantId))),
              },
            }
          : {}),
        labels: routing,
        networks: [platform.edgeNetwork, platform.dataNetwork],
        mounts: [filestore],
        // A local volume exists on one node only; CephFS mounts wherever the task runs.
        placement:
          platform.filestore.kind === "local" && platform.swarmVolumeConstraint
            ? [platform.swarmVolumeConstraint]
            : undefined,
        limits: { cpus: plan.cpus, memoryMb: plan.memoryMb },
        healthcheck: odooHealthcheck(args.odooVersion, platform.odooHealthcheckIntervalSeconds),
        running: args.state === "active",
      },
      {
        ...child,
        dependsOn: [...database.ready, ...(init ? [init] : []), upgrade, filestoreReleased],
      },
    );

    this.url = this.hosts.apply((h) => `https://${h[0]}`);
    this.databaseName = pulumi.output(names.database);
    this.databaseRole = pulumi.output(names.role);
    this.databasePassword = password;
    this.databaseHost = pulumi.output(database.host);
    this.databasePort = pulumi.output(database.port);
    this.runtimeName = pulumi.output(names.runtime);
    this.volumeName = volume.name;
    this.registerOutputs({
      url: this.url,
      hosts: this.hosts,
      databaseName: this.databaseName,
      databaseRole: this.databaseRole,
      databasePassword: this.databasePassword,
      databaseHost: this.databaseHost,
      databasePort: this.databasePort,
      runtimeName: this.runtimeName,
      volumeName: this.volumeName,
    });
  }

  /** Role + database on the platform's shared server; nobody but the owner may connect. */
  /**
   * The filestore volume's driver options: none for a local volume; for CephFS a kernel mount of
   * the tenant's own directory, which is created first, owned by the Odoo user and given the
   * plan's storage as its quota (updated in place on a plan change).
   */
  private filestoreVolumeArgs(
    name: string,
    args: OdooTenantArgs,
  ): {
    driverOpts: pulumi.Input<Record<string, pulumi.Input<string>>>;
    dependsOn: pulumi.Resource[];
  } {
    const backend = args.platform.filestore;
    if (backend.kind === "local") return { driverOpts: {}, dependsOn: [] };
    if (!args.platform.filestoreKey)
      throw new Error("the cephfs filestore needs the platform's CephX key (cephfsSecret)");
    const directory = new CephfsDirectory(
      `${name}-filestore-directory`,
      {
        path: cephfsAdminPath(backend, args.tenantId),
        owner: backend.owner,
        quotaBytes: args.plan.storageGb * 1024 ** 3,
        quotaAttribute: args.platform.filestoreQuotaAttribute,
      },
      { parent: this },
    );
    return {
      driverOpts: pulumi
        .secret(args.platform.filestoreKey)
        .apply((key) => cephfsVolumeOptions(backend, args.tenantId, key)),
      dependsOn: [directory],
    };
  }

  private sharedDatabase(
    name: string,
    names: TenantNames,
    args: OdooTenantArgs,
    password: pulumi.Output<string>,
  ): DatabaseEndpoint {
    const pg = args.platform.postgres;
    const db = new TenantDatabase(
      `${name}-database`,
      {
        admin: pulumi
          .all([pg.adminHost, pg.adminPort, pg.adminUser, pg.adminPassword, pg.sslMode])
          .apply(([host, port, user, password, sslMode]) => ({
            host,
            port,
            user,
            password,
            sslMode: sslMode as "disable" | "require" | "verify-ca" | "verify-full",
          })),
        role: names.role,
        password,
        database: names.database,
        template: args.templateDatabase,
        connectionLimit: args.plan.database.connectionLimit,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    return {
      host: pg.tenantHost,
      port: pg.tenantPort,
      ready: [db],
      generation: db.id,
      needsInit: !args.templateDatabase,
    };
  }

  /** A PostgreSQL server of the tenant's own, on the data network, with its own volume. */
  private dedicatedDatabase(
    name: string,
    names: TenantNames,
    args: OdooTenantArgs,
    password: pulumi.Output<string>,
    ownership: Record<string, string>,
  ): DatabaseEndpoint {
    const { platform, plan } = args;
    const data = new docker.Volume(
      `${name}-pgdata`,
      {
        name: `${names.dedicatedPostgres}-data`,
        labels: Object.entries(ownership).map(([label, value]) => ({ label, value })),
      },
      { parent: this, ignoreChanges: ["labels"] },
    );
    const dataReleased = new VolumeRelease(
      `${name}-pgdata-release`,
      { volume: data.name },
      { parent: this, dependsOn: [data] },
    );
    if (!args.databaseSuperuserPassword)
      throw new Error(
        `plan ${plan.id} has a dedicated database: it needs databaseSuperuserPassword`,
      );
    const superuserPassword = pulumi.secret(args.databaseSuperuserPassword);
    const server = dockerWorkload(
      `${name}-postgres`,
      {
        runtime: platform.runtime,
        endpointMode: platform.swarmEndpointMode,
        name: names.dedicatedPostgres,
        image: platform.dedicatedPostgresImage,
        command: ["postgres", "-c", `max_connections=${plan.database.connectionLimit + 10}`],
        // The image's superuser is `postgres`; the tenant's role is made a plain owner below.
        secretEnv: { POSTGRES_PASSWORD: superuserPassword },
        // As much as the plan gives Odoo: the server is the tenant's alone.
        limits: { cpus: plan.cpus, memoryMb: plan.memoryMb },
        labels: ownership,
        networks: [platform.dataNetwork],
        placement: platform.swarmVolumeConstraint ? [platform.swarmVolumeConstraint] : undefined,
        mounts: [
          {
            source: data.name,
            target: pulumi.output(platform.dedicatedPostgresImage).apply(postgresDataPath),
          },
        ],
        healthcheck: {
          tests: ["CMD", "pg_isready", "-U", "postgres"],
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 5,
          startPeriodSeconds: 30,
        },
        // Data stays; only the server stops with the tenant.
        running: args.state === "active",
      },
      { parent: this, dependsOn: [dataReleased] },
    );
    const owner = new OneShot(
      `${name}-owner`,
      {
        image: platform.dedicatedPostgresImage,
        command: ["bash", "-c", DEDICATED_OWNER_SCRIPT],
        env: {
          PGHOST: names.dedicatedPostgres,
          PGPASSWORD: superuserPassword,
          TENANT_ROLE: names.role,
          TENANT_PASSWORD: password,
          TENANT_DATABASE: names.database,
          TENANT_CONNECTION_LIMIT: String(plan.database.connectionLimit),
        },
        networks: [platform.dataNetwork.name],
        labels: ownership,
        // Once per server (a new volume is a new server) and per connection limit.
        triggers: { server: data.id, connectionLimit: String(plan.database.connectionLimit) },
      },
      { parent: this, dependsOn: server ? [server] : [data] },
    );
    return {
      host: names.dedicatedPostgres,
      port: 5432,
      ready: server ? [server, data, owner] : [data, owner],
      // The server's volume holds the database: a new volume is a new database.
      generation: data.id,
      needsInit: true,
    };
  }
}
