import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { engineOptions, type EngineOptions } from "../docker-endpoint";
import type { TenantPlatform } from "./tenant-platform";

/**
 * Where a tenant's local volumes are made and used outside its runtime. On a Swarm of several
 * nodes a local volume exists on one node only, and the manager's engine (the control plane's)
 * cannot make it on another: the tenant's node's engine makes its volumes, and the one-shots and
 * volume releases that mount or wait on them run there. Without a node of its own, the control
 * plane's engine does it all (one host, or the platform's volume node).
 */
export interface VolumeNode {
  /** The docker provider of the node's engine, for the tenant's volumes (opts.provider). */
  provider?: docker.Provider;
  /** The same engine for dockerode in dynamic providers. */
  engine?: EngineOptions;
}

export function volumeNode(
  name: string,
  platform: TenantPlatform,
  parent: pulumi.Resource,
): VolumeNode {
  if (!platform.volumeEngine) return {};
  return {
    provider: new docker.Provider(
      `${name}-volume-engine`,
      { host: platform.volumeEngine },
      { parent },
    ),
    engine: engineOptions(platform.volumeEngine),
  };
}

/**
 * A tenant placed on a node of its own (`node` in its spec): its services are pinned there and its
 * volumes made by that node's engine, which the platform must list in swarmTenantNodes.
 */
export function tenantNodePlacement(
  node: string,
  settings: { runtime: string; tenantNodes?: Record<string, string> },
): { swarmVolumeConstraint: string; volumeEngine: string } {
  const nodes = settings.tenantNodes ?? {};
  const known = Object.keys(nodes);
  if (settings.runtime !== "swarm" || !known.length)
    throw new Error(
      `the tenant is placed on node ${node}, but the platform has no tenant nodes (swarmTenantNodes)`,
    );
  const engine = nodes[node];
  if (!engine)
    throw new Error(
      `node ${node} is not one of the platform's tenant nodes (${known.sort().join(", ")})`,
    );
  return { swarmVolumeConstraint: `node.hostname == ${node}`, volumeEngine: engine };
}
