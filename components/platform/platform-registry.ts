import * as pulumi from "@pulumi/pulumi";
import { dockerWorkload, type NetworkRef } from "../workload";
import { childOptions, platformVolume, type PlatformPartArgs } from "./platform-part";

export interface PlatformRegistryArgs extends PlatformPartArgs {
  image: string;
  /** The port every node's engine pulls from. */
  port: number;
  /** The container runtime's publish address (Swarm publishes host-mode ports on every address). */
  publishHostIp: string;
  controlNetwork: NetworkRef;
  limits: { cpus: number; memoryMb: number };
}

/**
 * The cluster's image registry (images/registry: the CNCF distribution from Debian), its storage on
 * a volume of its own, on the node holding the platform's volumes. Every node's engine pulls the
 * platform's and tenants' images from it, named `<node>:<port>/<repository>@<digest>`, so every
 * node runs the same build. It serves plain HTTP: each engine lists it in `insecure-registries`,
 * and its port is for the cluster's own network only (docs/platform.md#a-registry-for-a-cluster).
 */
export class PlatformRegistry extends pulumi.ComponentResource {
  constructor(name: string, args: PlatformRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:Registry", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    const p = args.namePrefix;
    const data = platformVolume(`${name}-data`, `${p}-registry-data`, args.labels, child);
    dockerWorkload(
      name,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: `${p}-registry`,
        placement: args.runtime === "swarm" ? [args.volumeNode!] : undefined,
        limits: args.limits,
        image: args.image,
        labels: args.labels,
        networks: [args.controlNetwork],
        mounts: [{ source: data.name, target: "/var/lib/docker-registry" }],
        ports: [{ internal: 5000, external: args.port, hostIp: args.publishHostIp }],
        running: true,
      },
      child,
    );
    this.registerOutputs({});
  }
}
