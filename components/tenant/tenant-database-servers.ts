import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../../catalog";
import { OneShot } from "../one-shot";
import { sharedConnectionLimit, transactionPoolSize } from "../platform/shared-postgres-capacity";
import { poolerHost } from "../platform/shared-postgres-pooler";
import { postgresDataPath } from "../postgres-data-path";
import { postgresHealthcheck } from "../postgres-health";
import { VolumeRelease } from "../volume-release";
import { dockerWorkload, type NetworkRef } from "../workload";
import type { ContainerLimits, DatabasePlacement } from "./database-placement";
import { DEDICATED_OWNER_SCRIPT } from "./dedicated-owner";
import type { TenantNames } from "./names";
import { TenantDatabase } from "./tenant-database";
import type { TenantPlatform } from "./tenant-platform";
import { onNode, type VolumeNode } from "./volume-node";

/** One database of a tenant, where it lives and what waits on it. */
export interface DatabaseEndpoint {
  placement: DatabasePlacement;
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** What Odoo's runtime and the initialisation wait for. */
  ready: pulumi.Resource[];
  /** Changes when the database is created anew, so its initialisation runs again. */
  generation: pulumi.Input<string>;
  /** false when the database starts as a clone of an initialised template. */
  needsInit: boolean;
}

export interface DatabaseServerArgs {
  /** The component's resource name: children are `<name>-<part>`. */
  name: string;
  parent: pulumi.Resource;
  names: TenantNames;
  plan: Plan;
  platform: TenantPlatform;
  password: pulumi.Output<string>;
  templateDatabase?: pulumi.Input<string>;
  /** A dedicated server's superuser password. */
  superuserPassword?: pulumi.Input<string>;
  ownership: Record<string, string>;
  limits: ContainerLimits;
  /** A dedicated server runs (a shared one always does). */
  running: boolean;
  /** Where a dedicated server's volume is made. */
  volumeNode: VolumeNode;
  /** The tenant's own network, where a dedicated server and its one-shot are (tenant-gateway.ts). */
  network: NetworkRef;
}

/** The tenant's database at `placement`: a role and database on the shared server, or a server of its own. */
export function databaseServer(
  placement: DatabasePlacement,
  args: DatabaseServerArgs,
): DatabaseEndpoint {
  return placement === "dedicated" ? dedicatedDatabase(args) : sharedDatabase(args);
}

/** Role + database on the platform's shared server; nobody but the owner may connect. */
function sharedDatabase(a: DatabaseServerArgs): DatabaseEndpoint {
  const pg = a.platform.postgres;
  const db = new TenantDatabase(
    `${a.name}-database`,
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
      role: a.names.role,
      password: a.password,
      database: a.names.database,
      template: a.templateDatabase,
      connectionLimit: sharedConnectionLimit(a.plan, pg.pooler),
    },
    { parent: a.parent, deleteBeforeReplace: true },
  );
  return {
    placement: "shared",
    ...sharedEndpoint(a.plan, pg),
    ready: [db],
    generation: db.id,
    needsInit: !a.templateDatabase,
  };
}

/**
 * Where tenants' Odoo reaches the shared server: the platform's pooler when it has one (backups
 * and moves connect to `tenantHost` directly).
 */
export function sharedEndpoint(
  plan: Plan,
  pg: TenantPlatform["postgres"],
): { host: pulumi.Input<string>; port: pulumi.Input<number> } {
  return pg.pooler
    ? { host: poolerHost(pg.pooler, transactionPoolSize(plan, pg.pooler)), port: pg.pooler.port }
    : { host: pg.tenantHost, port: pg.tenantPort };
}

/** A PostgreSQL server of the tenant's own, on the tenant's network, with its own volume. */
function dedicatedDatabase(a: DatabaseServerArgs): DatabaseEndpoint {
  const { platform, plan, names } = a;
  const data = new docker.Volume(
    onNode(`${a.name}-pgdata`, a.volumeNode),
    {
      name: `${names.dedicatedPostgres}-data`,
      labels: Object.entries(a.ownership).map(([label, value]) => ({ label, value })),
    },
    { parent: a.parent, ignoreChanges: ["labels"], provider: a.volumeNode.provider },
  );
  const dataReleased = new VolumeRelease(
    onNode(`${a.name}-pgdata-release`, a.volumeNode),
    { volume: data.name, engine: a.volumeNode.engine },
    { parent: a.parent, dependsOn: [data] },
  );
  if (!a.superuserPassword)
    throw new Error(
      `a dedicated database (plan ${plan.id}, or one kept) needs databaseSuperuserPassword`,
    );
  const superuserPassword = pulumi.secret(a.superuserPassword);
  const server = dockerWorkload(
    `${a.name}-postgres`,
    {
      runtime: platform.runtime,
      endpointMode: platform.swarmEndpointMode,
      name: names.dedicatedPostgres,
      image: platform.dedicatedPostgresImage,
      command: ["postgres", "-c", `max_connections=${plan.database.connectionLimit + 10}`],
      // The image's superuser is `postgres`; the tenant's role is made a plain owner below.
      secretEnv: { POSTGRES_PASSWORD: superuserPassword },
      // As much as the plan gives Odoo: the server is the tenant's alone.
      limits: a.limits,
      labels: a.ownership,
      networks: [a.network],
      placement: platform.swarmVolumeConstraint ? [platform.swarmVolumeConstraint] : undefined,
      mounts: [
        {
          source: data.name,
          target: pulumi.output(platform.dedicatedPostgresImage).apply(postgresDataPath),
        },
      ],
      healthcheck: postgresHealthcheck("postgres"),
      // Data stays; only the server stops.
      running: a.running,
    },
    { parent: a.parent, dependsOn: [dataReleased] },
  );
  // Only while the server runs: its psql needs the server, and a stopped server's role cannot
  // change. Starting it again (a resume, a move) runs this again; it is idempotent.
  const owner = a.running
    ? new OneShot(
        `${a.name}-owner`,
        {
          image: platform.dedicatedPostgresImage,
          command: ["bash", "-c", DEDICATED_OWNER_SCRIPT],
          env: {
            PGHOST: names.dedicatedPostgres,
            PGPASSWORD: superuserPassword,
            TENANT_ROLE: names.role,
            TENANT_PASSWORD: a.password,
            TENANT_DATABASE: names.database,
            TENANT_CONNECTION_LIMIT: String(plan.database.connectionLimit),
          },
          networks: [a.network.name],
          labels: a.ownership,
          // Once per server (a new volume is a new server) and per connection limit.
          triggers: { server: data.id, connectionLimit: String(plan.database.connectionLimit) },
        },
        { parent: a.parent, dependsOn: server ? [server] : [data] },
      )
    : undefined;
  return {
    placement: "dedicated",
    host: names.dedicatedPostgres,
    port: 5432,
    ready: [...(server ? [server] : []), data, ...(owner ? [owner] : [])],
    // The server's volume holds the database: a new volume is a new database.
    generation: data.id,
    needsInit: true,
  };
}
