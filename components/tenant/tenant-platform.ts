import type * as pulumi from "@pulumi/pulumi";
import type { NetworkRef, Runtime, SwarmEndpointMode } from "../workload";
import type { ContainerLimits } from "./database-placement";
import type { PoolerSizing } from "../platform/shared-postgres-capacity";
import type { FilestoreBackend } from "./filestore";
import type { EdgePolicy } from "../edge-policy";

export interface PostgresPooler extends PoolerSizing {
  /** Poolers are `<hostPrefix>-<transaction pool size>`. */
  hostPrefix: string;
  port: number;
}

/** A tenant node: its hostname and the Docker endpoint of its engine. */
export interface TenantVolumeNode {
  hostname: string;
  engine: string;
}

/** What a tenant needs from the platform (the platform stack's outputs, read by StackReference). */
export interface TenantPlatform {
  runtime: Runtime;
  baseDomain: pulumi.Input<string>;
  /** Traefik entry point for HTTPS. */
  entryPoint: pulumi.Input<string>;
  certResolver?: pulumi.Input<string>;
  /** Network Traefik reaches tenants on, and network tenants reach PostgreSQL on. */
  edgeNetwork: NetworkRef;
  dataNetwork: NetworkRef;
  postgres: {
    /** Address the control plane (the postgresql provider) connects to. */
    adminHost: pulumi.Input<string>;
    adminPort: pulumi.Input<number>;
    adminUser: pulumi.Input<string>;
    adminPassword: pulumi.Input<string>;
    sslMode: pulumi.Input<string>;
    /** Address Odoo containers connect to (a name on the data network). */
    tenantHost: pulumi.Input<string>;
    tenantPort: pulumi.Input<number>;
    /** The platform's PgBouncer: where Odoo connects instead, when the platform runs one. */
    pooler?: PostgresPooler;
  };
  filestore: FilestoreBackend;
  /** The CephX key the Docker nodes mount CephFS with (the cephfs backend only). */
  filestoreKey?: pulumi.Input<string>;
  /** The quota attribute the CephFS directory gets (tests: a `user.` attribute on a local fs). */
  filestoreQuotaAttribute?: string;
  /** Image for PostgreSQL servers of tiers with a dedicated database. */
  dedicatedPostgresImage: pulumi.Input<string>;
  /** The image of each tenant's gateway (tenant-gateway.ts). */
  tenantGatewayImage: pulumi.Input<string>;
  /** The API's waker, which tenants' gateways call (tenant-gateway.ts); absent: forward only. */
  waker?: { url: string; holdSeconds: number; activityReportSeconds: number };
  odooHealthcheckIntervalSeconds: number;
  odooHealthcheckSteadySeconds: number;
  swarmEndpointMode: SwarmEndpointMode;
  /** Swarm: keeps services with local volumes on the node that holds them. */
  swarmVolumeConstraint?: string;
  /**
   * A tenant node of a multi-node Swarm (swarmVolumeConstraint names it): the node holding the
   * tenant's local volumes, and the nodes still holding a copy of its files during a move, each
   * with its engine's Docker endpoint. Absent: the control plane's engine.
   */
  volumeNodes?: { serving: TenantVolumeNode; kept: TenantVolumeNode[] };
  /** A development platform's cap on tenants' limits (a host smaller than the plans). */
  tenantLimitCap?: Partial<ContainerLimits>;
  /** The HTTPS port tenants answer on when it is not 443 (it is then part of their URL). */
  publicHttpsPort?: number;
  /** The edge's headers and body limit on the tenant's routes. */
  edge: EdgePolicy;
}
