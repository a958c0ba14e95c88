import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { dockerWorkload, type NetworkRef, type Workload } from "../workload";
import type { TenantNames } from "./names";
import type { TenantPlatform } from "./tenant-platform";

/** Where the tenant's Odoo finds the platform's database endpoint: the gateway's own port. */
export const GATEWAY_DATABASE_PORT = 5432;

/** What a small Go process forwarding three ports needs (about 5 MB idle). */
const GATEWAY_LIMITS = { cpus: 1, memoryMb: 128 };

export interface TenantBoundary {
  /** The tenant's own network: its Odoo, one-shots and dedicated PostgreSQL join this one only. */
  network: NetworkRef;
  /** How the tenant reaches the platform's database endpoint (the pooler or the shared server). */
  sharedDatabase: { host: string; port: number };
  /** The gateway, which Odoo and the one-shots that reach the shared server wait for. */
  gateway: Workload;
}

export interface TenantBoundaryArgs {
  tenantId: string;
  names: TenantNames;
  platform: TenantPlatform;
  /** The platform's database endpoint the gateway forwards to (the pooler or the shared server). */
  sharedDatabase: { host: pulumi.Input<string>; port: pulumi.Input<number> };
  /** Traefik's labels while the tenant is routed; with none, nothing routes to it. */
  routing: pulumi.Input<Record<string, string>>;
  /** The token the gateway presents to the API's waker (absent without a waker). */
  wakerToken?: pulumi.Input<string>;
  ownership: Record<string, string>;
  /** Swarm placement constraints (Odoo's). */
  placement?: pulumi.Input<string>[];
  parent: pulumi.Resource;
}

/**
 * Tenants cannot reach each other: each has a network of its own (a bridge, or an attachable
 * overlay on Swarm), and its Odoo, its one-shots and its dedicated PostgreSQL are on it alone.
 * The platform's networks (edge, data) hold only the platform's processes and one gateway per
 * tenant, which forwards exactly three ports to fixed targets: Traefik's requests and the
 * real-time channel to this tenant's Odoo, and the tenant's database connections to the pooler or
 * the shared server. Nothing a tenant runs can use its gateway to reach anything else, and no
 * shared network has a tenant's process on it. Traefik routes to the gateway, so the edge and the
 * poolers stay as they are (no restart or re-attachment when a tenant comes or goes). The gateway
 * runs while the tenant is suspended too (a one-shot may still need the database then); only the
 * routing labels go. With the platform's waker it is also where a sleeping tenant wakes: a request
 * that finds Odoo down is held while the API starts it (images/tenant-gateway/main.go).
 */
export function tenantBoundary(name: string, args: TenantBoundaryArgs): TenantBoundary {
  const { names, platform } = args;
  const swarm = platform.runtime === "swarm";
  const network = new docker.Network(
    `${name}-network`,
    {
      name: names.network,
      driver: swarm ? "overlay" : "bridge",
      // One-shots and backup agents are plain containers: they join an overlay only if attachable.
      attachable: swarm ? true : undefined,
      labels: Object.entries(args.ownership).map(([label, value]) => ({ label, value })),
    },
    { parent: args.parent },
  );
  const own: NetworkRef = { name: network.name, id: network.id };
  const gateway = dockerWorkload(
    `${name}-gateway`,
    {
      runtime: platform.runtime,
      endpointMode: platform.swarmEndpointMode,
      name: names.gateway,
      image: platform.tenantGatewayImage,
      env: {
        ODOO_HOST: names.runtime,
        DATABASE_HOST: args.sharedDatabase.host,
        DATABASE_PORT: pulumi.interpolate`${args.sharedDatabase.port}`,
        ...(platform.waker && args.wakerToken
          ? {
              TENANT: args.tenantId,
              WAKER_URL: platform.waker.url,
              HOLD_SECONDS: String(platform.waker.holdSeconds),
              ACTIVITY_REPORT_SECONDS: String(platform.waker.activityReportSeconds),
            }
          : {}),
      },
      ...(platform.waker && args.wakerToken ? { secretEnv: { WAKER_TOKEN: args.wakerToken } } : {}),
      labels: args.routing,
      networks: [own, platform.edgeNetwork, platform.dataNetwork],
      limits: GATEWAY_LIMITS,
      placement: args.placement,
      running: true,
      // A plan that changes its database target updates it: the new one answers before the old goes.
      startFirst: true,
    },
    { parent: args.parent },
  );
  return {
    network: own,
    sharedDatabase: { host: names.gateway, port: GATEWAY_DATABASE_PORT },
    gateway,
  };
}
