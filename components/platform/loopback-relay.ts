import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { NetworkRef } from "../workload";

/**
 * A control-plane port on the Docker host's loopback, for a Swarm service: Swarm publishes on
 * every address of every node, so a plain container on the control plane's node (socat) publishes
 * 127.0.0.1:`publishPort` and forwards to the service by name on `networks` (attachable overlays;
 * a bridge among them carries the published port).
 */
export function loopbackRelay(
  name: string,
  args: {
    /** The container's name. */
    containerName: string;
    image: string;
    target: { host: string; port: number };
    publishPort: number;
    networks: NetworkRef[];
    labels: Record<string, string>;
  },
  opts: pulumi.CustomResourceOptions,
): docker.Container {
  return new docker.Container(
    name,
    {
      name: args.containerName,
      image: args.image,
      command: [
        `TCP-LISTEN:${args.target.port},fork,reuseaddr`,
        `TCP:${args.target.host}:${args.target.port}`,
      ],
      networksAdvanced: args.networks.map((n) => ({ name: n.name })),
      ports: [{ internal: args.target.port, external: args.publishPort, ip: "127.0.0.1" }],
      labels: Object.entries(args.labels).map(([label, value]) => ({ label, value })),
      restart: "unless-stopped",
      logOpts: { "max-size": "10m", "max-file": "3" },
    },
    opts,
  );
}
