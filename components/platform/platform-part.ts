import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkRef, Runtime, SwarmEndpointMode } from "../workload";

/** What every part of the platform (Traefik, PostgreSQL, Redis, Kill Bill, the API) is given. */
export interface PlatformPartArgs {
  runtime: Runtime;
  swarmEndpointMode: SwarmEndpointMode;
  /** Prefix of every platform-level name (services, volumes). */
  namePrefix: string;
  /** Swarm: the constraint keeping a service on the node holding its local volumes. */
  volumeNode?: pulumi.Input<string>;
  /** The platform's own labels (`odoo-saas.platform=<prefix>`), on every resource. */
  labels: Record<string, string>;
}

/**
 * The options of a part's children. The platform was one component before its parts: each child
 * keeps its name and, through the alias, its identity in existing stacks (nothing is replaced).
 */
export function childOptions(
  part: pulumi.ComponentResource,
  platform: pulumi.Resource | undefined,
): pulumi.CustomResourceOptions {
  return { parent: part, aliases: platform ? [{ parent: platform }] : [] };
}

/** A named volume of the platform, labelled as its own. */
export function platformVolume(
  name: string,
  volumeName: string,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): docker.Volume {
  return new docker.Volume(
    name,
    {
      name: volumeName,
      labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
    },
    opts,
  );
}

export const networkRef = (n: docker.Network): NetworkRef => ({ name: n.name, id: n.id });
