import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { engineOptions, type EngineOptions } from "../docker-endpoint";
import type { TenantPlatform, TenantVolumeNode } from "./tenant-platform";

/**
 * Where a tenant's local volumes are made and used outside its runtime. On a Swarm of several
 * nodes a local volume exists on one node only, and the manager's engine (the control plane's)
 * cannot make it on another: the tenant's node's engine makes its volumes, and the one-shots and
 * volume releases that mount or wait on them run there. Without a node of its own, the control
 * plane's engine does it all (one host, or the platform's volume node).
 */
export interface VolumeNode {
  /** The node's hostname: part of its volumes' resource names (a tenant has one per node). */
  hostname?: string;
  /** The docker provider of the node's engine, for the tenant's volumes (opts.provider). */
  provider?: docker.Provider;
  /** The same engine for dockerode in dynamic providers. */
  engine?: EngineOptions;
}

function nodeOf(name: string, node: TenantVolumeNode, parent: pulumi.Resource): VolumeNode {
  return {
    hostname: node.hostname,
    provider: new docker.Provider(
      `${name}-engine-${node.hostname}`,
      { host: node.engine },
      { parent },
    ),
    engine: engineOptions(node.engine),
  };
}

/** The node serving the tenant, and the nodes still holding a copy of its files (a move's source). */
export function volumeNodes(
  name: string,
  platform: TenantPlatform,
  parent: pulumi.Resource,
): { serving: VolumeNode; kept: VolumeNode[] } {
  const nodes = platform.volumeNodes;
  if (!nodes) return { serving: {}, kept: [] };
  return {
    serving: nodeOf(name, nodes.serving, parent),
    kept: nodes.kept.map((k) => nodeOf(name, k, parent)),
  };
}

/** The resource name of a volume on `node` (a tenant node's volumes are named by their node). */
export const onNode = (resourceName: string, node: VolumeNode) =>
  node.hostname ? `${resourceName}-${node.hostname}` : resourceName;

/**
 * A tenant placed on a node of its own (`node` in its spec): its services are pinned there and its
 * volumes made by that node's engine, which the platform must list in swarmTenantNodes. `kept`:
 * nodes that keep a copy of its files until a move is done.
 */
export function tenantNodePlacement(
  node: string,
  kept: string[],
  settings: { runtime: string; tenantNodes?: Record<string, string> },
): Pick<TenantPlatform, "swarmVolumeConstraint" | "volumeNodes"> {
  const nodes = settings.tenantNodes ?? {};
  const known = Object.keys(nodes);
  if (settings.runtime !== "swarm" || !known.length)
    throw new Error(
      `the tenant is placed on node ${node}, but the platform has no tenant nodes (swarmTenantNodes)`,
    );
  const engineOf = (hostname: string) => {
    const engine = nodes[hostname];
    if (!engine)
      throw new Error(
        `node ${hostname} is not one of the platform's tenant nodes (${known.sort().join(", ")})`,
      );
    return { hostname, engine };
  };
  return {
    swarmVolumeConstraint: `node.hostname == ${node}`,
    volumeNodes: {
      serving: engineOf(node),
      kept: kept.filter((k) => k !== node).map(engineOf),
    },
  };
}

/** A resource of a stack's state, as far as telling what lives on a node goes. */
export interface DeployedResource {
  urn: string;
  type: string;
  /** `<provider urn>::<provider id>` for a resource made by an explicit provider. */
  provider?: string;
}

/**
 * The resources of a tenant's stack on `hostname`: that node's docker provider, the volumes it
 * made, and the volume releases named by the node. What a stack forgets of a node lost for good
 * (nothing can reach them to delete them; their data is gone with the node).
 */
export function resourcesOnNode(resources: DeployedResource[], hostname: string): Set<string> {
  const name = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
  const providers = resources
    .filter(
      (r) => r.type === "pulumi:providers:docker" && name(r.urn).endsWith(`-engine-${hostname}`),
    )
    .map((r) => r.urn);
  return new Set(
    resources
      .filter(
        (r) =>
          providers.includes(r.urn) ||
          providers.some((p) => r.provider?.startsWith(`${p}::`)) ||
          (r.type === "pulumi-nodejs:dynamic:Resource" && name(r.urn).endsWith(`-${hostname}`)),
      )
      .map((r) => r.urn),
  );
}
