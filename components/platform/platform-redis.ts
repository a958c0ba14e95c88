import * as pulumi from "@pulumi/pulumi";
import { dockerWorkload, type NetworkRef } from "../workload";
import { childOptions, platformVolume, type PlatformPartArgs } from "./platform-part";

export interface PlatformRedisArgs extends PlatformPartArgs {
  image: string;
  /** The control plane's network: tenants never join it. */
  controlNetwork: NetworkRef;
  limits: { cpus: number; memoryMb: number };
}

/** Redis for the API's job queues, append-only on a volume of its own, on the control network. */
export class PlatformRedis extends pulumi.ComponentResource {
  constructor(name: string, args: PlatformRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:Redis", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    const p = args.namePrefix;
    const data = platformVolume(`${name}-data`, `${p}-redis-data`, args.labels, child);
    dockerWorkload(
      name,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: `${p}-redis`,
        placement: args.runtime === "swarm" ? [args.volumeNode!] : undefined,
        limits: args.limits,
        image: args.image,
        command: ["redis-server", "--appendonly", "yes"],
        labels: args.labels,
        networks: [args.controlNetwork],
        mounts: [{ source: data.name, target: "/data" }],
        healthcheck: {
          tests: ["CMD", "redis-cli", "ping"],
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 10,
        },
        running: true,
      },
      child,
    );
    this.registerOutputs({});
  }
}
