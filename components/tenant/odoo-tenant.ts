import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../../catalog";
import { dockerWorkload, type Workload } from "../workload";
import { filestoreVolumeArgs } from "./filestore";
import { tenantNames } from "./names";
import {
  ODOO_HEALTHCHECK,
  STORAGE_QUOTA_LABEL,
  odooCommand,
  storageQuotaBytes,
} from "./odoo-options";
import type { OdooVersion } from "./odoo-versions";
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
  /** suspended: not running (stopped container / 0 replicas), database and filestore kept. */
  state: TenantState;
  /** Odoo image for the tenant's version. */
  odooImage: pulumi.Input<string>;
  /** Database to clone (a pre-initialised per-version template); empty database otherwise. */
  templateDatabase?: pulumi.Input<string>;
  /** Password of the tenant's database role (kept as a secret). */
  databasePassword: pulumi.Input<string>;
  platform: TenantPlatform;
}

const LABEL_PREFIX = "odoo-saas";

/** One customer's Odoo: database and role, filestore volume, runtime and its Traefik routing. */
export class OdooTenant extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly hosts: pulumi.Output<string[]>;
  readonly databaseName: pulumi.Output<string>;
  readonly databaseRole: pulumi.Output<string>;
  readonly databasePassword: pulumi.Output<string>;
  readonly runtimeName: pulumi.Output<string>;
  readonly volumeName: pulumi.Output<string>;
  readonly runtime: Workload;

  constructor(name: string, args: OdooTenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:tenant:OdooTenant", name, {}, opts);
    const names = tenantNames(args.customerId, args.tenantId);
    const { plan, platform } = args;
    const child = { parent: this };
    const ownership = {
      [`${LABEL_PREFIX}.tenant`]: args.tenantId,
      [`${LABEL_PREFIX}.customer`]: args.customerId,
      [`${LABEL_PREFIX}.plan`]: plan.id,
    };
    const password = pulumi.secret(args.databasePassword);

    const database =
      plan.database.placement === "dedicated"
        ? this.dedicatedDatabase(name, names, args, password, ownership)
        : this.sharedDatabase(name, names, args, password);

    const volumeArgs = filestoreVolumeArgs(platform.filestore, args.tenantId);
    const volume = new docker.Volume(
      `${name}-filestore`,
      {
        name: names.volume,
        driver: volumeArgs.driver,
        driverOpts: volumeArgs.driverOpts,
        labels: Object.entries({
          ...ownership,
          [STORAGE_QUOTA_LABEL]: String(storageQuotaBytes(plan)),
        }).map(([label, value]) => ({ label, value })),
      },
      { ...child, retainOnDelete: false },
    );

    this.hosts = pulumi
      .output(platform.baseDomain)
      .apply((domain) => [`${args.subdomain}.${domain}`, ...(args.customDomains ?? [])]);
    const routing = pulumi
      .all([this.hosts, platform.edgeNetwork, platform.entryPoint, platform.certResolver])
      .apply(([hosts, network, entryPoint, certResolver]) => ({
        ...ownership,
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
        name: names.runtime,
        image: args.odooImage,
        command: odooCommand(plan, names.database),
        env: {
          HOST: database.host,
          PORT: pulumi.interpolate`${database.port}`,
          USER: names.role,
        },
        secretEnv: { PASSWORD: password },
        labels: routing,
        networks: [platform.edgeNetwork, platform.dataNetwork],
        mounts: [
          {
            source: volume.name,
            target: "/var/lib/odoo",
            driver: volumeArgs.driver,
            driverOptions: volumeArgs.driverOpts,
          },
        ],
        limits: { cpus: plan.cpus, memoryMb: plan.memoryMb },
        healthcheck: ODOO_HEALTHCHECK,
        running: args.state === "active",
      },
      { ...child, dependsOn: database.ready },
    );

    this.url = this.hosts.apply((h) => `https://${h[0]}`);
    this.databaseName = pulumi.output(names.database);
    this.databaseRole = pulumi.output(names.role);
    this.databasePassword = password;
    this.runtimeName = pulumi.output(names.runtime);
    this.volumeName = volume.name;
    this.registerOutputs({
      url: this.url,
      hosts: this.hosts,
      databaseName: this.databaseName,
      databaseRole: this.databaseRole,
      databasePassword: this.databasePassword,
      runtimeName: this.runtimeName,
      volumeName: this.volumeName,
    });
  }

  /** Role + database on the platform's shared server; nobody but the owner may connect. */
  private sharedDatabase(
    name: string,
    names: ReturnType<typeof tenantNames>,
    args: OdooTenantArgs,
    password: pulumi.Output<string>,
  ) {
    const pg = args.platform.postgres;
    const provider = new postgresql.Provider(
      `${name}-postgres`,
      {
        host: pg.adminHost,
        port: pg.adminPort,
        username: pg.adminUser,
        password: pg.adminPassword,
        sslmode: pg.sslMode,
        superuser: false,
      },
      { parent: this },
    );
    const opts = { parent: this, provider };
    const role = new postgresql.Role(
      `${name}-role`,
      {
        name: names.role,
        login: true,
        password,
        connectionLimit: args.plan.database.connectionLimit,
      },
      opts,
    );
    const database = new postgresql.Database(
      `${name}-database`,
      {
        name: names.database,
        owner: role.name,
        template: args.templateDatabase ?? "template0",
        encoding: "UTF8",
        connectionLimit: args.plan.database.connectionLimit,
      },
      opts,
    );
    // Every database is open to PUBLIC by default: close it so no tenant reaches another's.
    const revoke = new postgresql.Grant(
      `${name}-revoke-public-connect`,
      { database: database.name, role: "public", objectType: "database", privileges: [] },
      opts,
    );
    return {
      host: pulumi.output(pg.tenantHost),
      port: pulumi.output(pg.tenantPort),
      ready: [database, revoke],
    };
  }

  /** A PostgreSQL server of the tenant's own, on the data network, with its own volume. */
  private dedicatedDatabase(
    name: string,
    names: ReturnType<typeof tenantNames>,
    args: OdooTenantArgs,
    password: pulumi.Output<string>,
    ownership: Record<string, string>,
  ) {
    const { platform, plan } = args;
    const data = new docker.Volume(
      `${name}-pgdata`,
      {
        name: `${names.dedicatedPostgres}-data`,
        labels: Object.entries(ownership).map(([label, value]) => ({ label, value })),
      },
      { parent: this },
    );
    const server = dockerWorkload(
      `${name}-postgres`,
      {
        runtime: platform.runtime,
        name: names.dedicatedPostgres,
        image: platform.dedicatedPostgresImage,
        command: ["postgres", "-c", `max_connections=${plan.database.connectionLimit + 10}`],
        env: {
          POSTGRES_USER: names.role,
          POSTGRES_DB: names.database,
        },
        secretEnv: { POSTGRES_PASSWORD: password },
        labels: ownership,
        networks: [platform.dataNetwork],
        mounts: [{ source: data.name, target: "/var/lib/postgresql/data" }],
        healthcheck: {
          tests: ["CMD", "pg_isready", "-U", names.role, "-d", names.database],
          interval: "10s",
          timeout: "5s",
          retries: 5,
          startPeriod: "30s",
        },
        // Data stays; only the server stops with the tenant.
        running: args.state === "active",
      },
      { parent: this },
    );
    return {
      host: pulumi.output(names.dedicatedPostgres),
      port: pulumi.output(5432),
      ready: [server],
    };
  }
}
