import * as pulumi from "@pulumi/pulumi";
import { postgresDataPath } from "../postgres-data-path";
import { postgresHealthcheck } from "../postgres-health";
import { dockerWorkload, type NetworkRef } from "../workload";
import { loopbackRelay } from "./loopback-relay";
import { childOptions, platformVolume, type PlatformPartArgs } from "./platform-part";

export interface SharedPostgresArgs extends PlatformPartArgs {
  image: string;
  adminUser: string;
  adminPassword: pulumi.Input<string>;
  /** The server's max_connections (room for its tenants' connection limits and a reserve). */
  maxConnections: number;
  /** The loopback port of the Docker host the control plane reaches the server on. */
  publishPort: number;
  /** The Swarm relay's image (socat). */
  adminRelayImage: string;
  /** Tenants reach it here (internal). */
  dataNetwork: NetworkRef;
  /** The control plane's way in (not internal: Docker publishes nothing of an internal network). */
  managementNetwork: NetworkRef;
  limits: { cpus: number; memoryMb: number };
}

/**
 * The shared PostgreSQL server: tenants on shared plans get a role and a database on it. Its data
 * is on a volume; it is healthy once `pg_isready` says so. The control plane reaches it on the
 * Docker host's loopback only: published from the management network (container runtime), or by a
 * relay container on the control plane's node (Swarm, which would publish on every address).
 */
export class SharedPostgres extends pulumi.ComponentResource {
  constructor(name: string, args: SharedPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:SharedPostgres", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    const p = args.namePrefix;
    const swarm = args.runtime === "swarm";
    const data = platformVolume(`${name}-data`, `${p}-postgres-data`, args.labels, child);
    dockerWorkload(
      name,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: `${p}-postgres`,
        placement: swarm ? [args.volumeNode!] : undefined,
        limits: args.limits,
        image: args.image,
        command: ["postgres", "-c", `max_connections=${args.maxConnections}`],
        env: { POSTGRES_USER: args.adminUser, POSTGRES_DB: "postgres" },
        secretEnv: { POSTGRES_PASSWORD: pulumi.secret(args.adminPassword) },
        labels: args.labels,
        networks: swarm ? [args.dataNetwork] : [args.dataNetwork, args.managementNetwork],
        mounts: [{ source: data.name, target: postgresDataPath(args.image) }],
        ports: swarm
          ? undefined
          : [{ internal: 5432, external: args.publishPort, hostIp: "127.0.0.1" }],
        healthcheck: postgresHealthcheck(args.adminUser, "postgres"),
        running: true,
      },
      child,
    );
    if (swarm)
      loopbackRelay(
        `${name}-admin-relay`,
        {
          containerName: `${p}-postgres-admin-relay`,
          image: args.adminRelayImage,
          target: { host: `${p}-postgres`, port: 5432 },
          publishPort: args.publishPort,
          networks: [args.managementNetwork, args.dataNetwork],
          labels: args.labels,
        },
        child,
      );
    this.registerOutputs({});
  }
}
