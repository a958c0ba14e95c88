import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../../catalog";
import { OneShot } from "../one-shot";
import { VolumeRelease } from "../volume-release";
import { onNode, volumeNodes } from "./volume-node";
import { dockerWorkload, type Workload } from "../workload";
import { CephfsDirectory } from "./cephfs-directory";
import {
  cappedLimits,
  tenantDatabases,
  type DatabasePlacement,
  type TenantDatabases,
} from "./database-placement";
import { odooConfigFile, odooMasterPasswordHash } from "./odoo-config";
import { cephfsAdminPath, cephfsVolumeOptions } from "./filestore";
import { tenantNames } from "./names";
import { odooCommand, odooHealthcheck, odooInitCommand, odooUpgradeCommand } from "./odoo-options";
import type { OdooVersion } from "./odoo-versions";
import { databaseServer, sharedEndpoint, type DatabaseEndpoint } from "./tenant-database-servers";
import { tenantBoundary } from "./tenant-gateway";
import type { TenantPlatform } from "./tenant-platform";
import { traefikLabels } from "./traefik-labels";

/** sleeping: may run (billing allows it) but idle: stopped until a request wakes it. */
export type TenantState = "active" | "sleeping" | "suspended";

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
  /**
   * suspended: not running (no container / 0 replicas), database and filestore kept, routed
   * nowhere; sleeping: not running either, but still routed to its gateway, which wakes it.
   */
  state: TenantState;
  /** What the tenant's gateway presents to the platform's waker (tenant-gateway.ts). */
  gatewayToken?: pulumi.Input<string>;
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
  /** Where the database is served from and which others are kept (default: the plan's placement). */
  databases?: Partial<TenantDatabases>;
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
  /** Where the tenant's Odoo reaches its database server, as the server knows itself (backups connect there). */
  readonly databaseHost: pulumi.Output<string>;
  readonly databasePort: pulumi.Output<number>;
  readonly runtimeName: pulumi.Output<string>;
  readonly volumeName: pulumi.Output<string>;
  /** undefined while a container-runtime tenant is suspended. */
  readonly runtime: Workload;
  /** Where Odoo's database is, and the other databases this stack keeps. */
  readonly databases: TenantDatabases;
  /**
   * Resolves once every resource of the tenant was applied: outputs that wait on it are never
   * written by a run that failed half-way (they keep describing what exists).
   */
  readonly applied: pulumi.Output<boolean>;

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

    const limits = cappedLimits(plan, platform.tenantLimitCap);
    const nodes = volumeNodes(name, platform, this);
    const node = nodes.serving;
    const placements = tenantDatabases(plan, args.databases);

    this.hosts = pulumi
      .output(platform.baseDomain)
      .apply((domain) => [`${args.subdomain}.${domain}`, ...(args.customDomains ?? [])]);
    const tagged = { ...ownership, [`${LABEL_PREFIX}.plan`]: plan.id };
    const routing = pulumi
      .all([this.hosts, platform.edgeNetwork.name, platform.entryPoint, platform.certResolver])
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
          edge: platform.edge,
        }),
      }));
    // A local volume exists on one node only; CephFS mounts wherever the task runs.
    const placement =
      platform.filestore.kind === "local" && platform.swarmVolumeConstraint
        ? [platform.swarmVolumeConstraint]
        : undefined;
    // The tenant's own network and its gateway to the platform's (tenant-gateway.ts): routed
    // through the gateway while active or asleep (the gateway wakes it); a suspended tenant is
    // routed nowhere. The gateway runs where Odoo does, so a request crosses the cluster's
    // network once.
    const boundary = tenantBoundary(name, {
      tenantId: args.tenantId,
      placement,
      names,
      platform,
      sharedDatabase: sharedEndpoint(plan, platform.postgres),
      routing: args.state === "suspended" ? ownership : routing,
      wakerToken: args.gatewayToken,
      ownership,
      parent: this,
    });
    const gateway = boundary.gateway ? [boundary.gateway] : [];
    /** Where the tenant's processes reach a database: the shared one through the gateway. */
    const reach = (server: DatabaseEndpoint) =>
      server.placement === "shared" ? boundary.sharedDatabase : server;
    const servers = new Map<DatabasePlacement, DatabaseEndpoint>();
    for (const placement of [placements.serving, ...placements.kept]) {
      const serving = placement === placements.serving;
      servers.set(
        placement,
        databaseServer(placement, {
          name,
          parent: this,
          names,
          plan,
          platform,
          password,
          templateDatabase: args.templateDatabase,
          superuserPassword: args.databaseSuperuserPassword,
          ownership,
          limits,
          // A sleeping tenant's server runs on: its wake then waits only for Odoo.
          running: (serving && args.state !== "suspended") || placements.serversRunning,
          volumeNode: node,
          network: boundary.network,
        }),
      );
    }
    const database = servers.get(placements.serving)!;

    const volumeArgs = this.filestoreVolumeArgs(name, args);
    const filestoreOn = (on: typeof node) => {
      const v = new docker.Volume(
        onNode(`${name}-filestore`, on),
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
          provider: on.provider,
        },
      );
      // On destroy: the runtime goes, then this waits until nothing uses the volume, then the volume.
      const released = new VolumeRelease(
        onNode(`${name}-filestore-release`, on),
        { volume: v.name, engine: on.engine },
        { ...child, dependsOn: [v] },
      );
      return { volume: v, released };
    };
    const { volume, released: filestoreReleased } = filestoreOn(node);
    // A move's source keeps its copy of the files (unused) until the move is done.
    for (const kept of nodes.kept) filestoreOn(kept);
    const filestore = {
      source: volume.name,
      target: "/var/lib/odoo",
      driver: "local",
      driverOptions: volumeArgs.driverOpts,
    };
    const connection = {
      HOST: reach(database).host,
      PORT: pulumi.interpolate`${reach(database).port}`,
      USER: names.role,
    };

    // Odoo refuses to serve a database that was never initialised, and with the database list
    // off nothing else can initialise it: `-i base` runs once per database, before the runtime
    // starts (on a database that already has it, as after a move, it changes nothing). A kept
    // database (a move's target) is initialised without the tenant's files: they are the serving
    // database's.
    const inits = new Map<DatabasePlacement, OneShot>();
    for (const [placement, server] of servers) {
      if (!server.needsInit) continue;
      const serving = placement === placements.serving;
      inits.set(
        placement,
        new OneShot(
          `${name}-init-${placement}`,
          {
            image: args.odooImage,
            command: odooInitCommand(names.database),
            env: {
              HOST: reach(server).host,
              PORT: pulumi.interpolate`${reach(server).port}`,
              USER: names.role,
              PASSWORD: password,
            },
            networks: [boundary.network.name],
            mounts: serving ? [{ source: volume.name, target: filestore.target }] : [],
            engine: node.engine,
            labels: ownership,
            triggers: { database: server.generation },
          },
          {
            ...child,
            dependsOn: [...server.ready, ...gateway],
            // Stacks from before a tenant could hold two databases named it `<name>-init`.
            aliases: serving ? [{ name: `${name}-init` }] : [],
          },
        ),
      );
    }
    const init = inits.get(placements.serving);

    // A new build of the tenant's Odoo image (same version): its modules are updated once, by the
    // new image, before the runtime is replaced with it. If the update fails, the runtime keeps
    // the old image (it waits on this) and the up fails; a rollout restores the database.
    const upgrade = new OneShot(
      `${name}-upgrade`,
      {
        image: args.odooImage,
        command: odooUpgradeCommand(names.database),
        env: { ...connection, PASSWORD: password },
        networks: [boundary.network.name],
        mounts: [{ source: volume.name, target: filestore.target }],
        engine: node.engine,
        labels: ownership,
        triggers: { image: args.odooImage },
        runOnCreate: false,
      },
      { ...child, dependsOn: [...database.ready, ...gateway, ...(init ? [init] : [])] },
    );

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
        labels: tagged,
        networks: [boundary.network],
        mounts: [filestore],
        placement,
        limits,
        healthcheck: odooHealthcheck(args.odooVersion, {
          intervalSeconds: platform.odooHealthcheckIntervalSeconds,
          steadySeconds: platform.odooHealthcheckSteadySeconds,
        }),
        running: args.state === "active",
      },
      {
        ...child,
        dependsOn: [
          ...database.ready,
          ...gateway,
          ...(init ? [init] : []),
          upgrade,
          filestoreReleased,
        ],
      },
    );

    const port = platform.publicHttpsPort;
    this.url = this.hosts.apply((h) => tenantUrl(h[0], port));
    this.databaseName = pulumi.output(names.database);
    this.databaseRole = pulumi.output(names.role);
    this.databasePassword = password;
    this.databaseHost = pulumi.output(database.host);
    this.databasePort = pulumi.output(database.port);
    this.runtimeName = pulumi.output(names.runtime);
    this.volumeName = volume.name;
    this.databases = placements;
    const everything: pulumi.Resource[] = [
      ...[...servers.values()].flatMap((s) => s.ready),
      ...inits.values(),
      volume,
      filestoreReleased,
      upgrade,
      ...gateway,
      ...(this.runtime ? [this.runtime] : []),
    ];
    this.applied = pulumi
      .all(everything.map((r) => (r as pulumi.CustomResource).id))
      .apply(() => true);
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
}

/** The tenant's address: its first host, with the port where the edge is not on 443. */
export function tenantUrl(host: string, httpsPort?: number): string {
  return `https://${host}${httpsPort && httpsPort !== 443 ? `:${httpsPort}` : ""}`;
}
