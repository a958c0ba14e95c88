import * as pulumi from "@pulumi/pulumi";
import { dockerWorkload, type NetworkRef } from "../workload";
import { childOptions, type PlatformPartArgs } from "./platform-part";

export const POOLER_PORT = 6432;

/** The pooler whose transaction pool is `size`: `<prefix>-postgres-pooler-<size>`. */
export function poolerHost(pooler: { hostPrefix: string }, size: number): string {
  return `${pooler.hostPrefix}-${size}`;
}

export interface SharedPostgresPoolerArgs extends PlatformPartArgs {
  image: string;
  /** Its name on the data network. */
  serviceName: string;
  /** The shared server, by its name on the data network. */
  serverHost: string;
  /** The role that looks clients' SCRAM secrets up (the server's admin). */
  authUser: string;
  authPassword: pulumi.Input<string>;
  transactionPoolSize: number;
  /** Sessions per tenant on `postgres` (where Odoo's workers LISTEN). */
  sessionPoolSize: number;
  dataNetwork: NetworkRef;
  limits: { cpus: number; memoryMb: number };
}

/**
 * PgBouncer in front of the shared server, on the data network only: tenants' Odoo connects here
 * (their databases pooled per transaction, `postgres` per session); backups, moves and the control
 * plane connect to the server directly. It keeps no state, so it is not pinned to a node.
 */
export class SharedPostgresPooler extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: SharedPostgresPoolerArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("odoo-saas:platform:SharedPostgresPooler", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    dockerWorkload(
      name,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: args.serviceName,
        limits: args.limits,
        image: args.image,
        command: ["pgbouncer"],
        env: {
          POOLER_SERVER_HOST: args.serverHost,
          POOLER_SERVER_PORT: "5432",
          POOLER_AUTH_USER: args.authUser,
          POOLER_TRANSACTION_POOL_SIZE: String(args.transactionPoolSize),
          POOLER_SESSION_POOL_SIZE: String(args.sessionPoolSize),
        },
        secretEnv: { POOLER_AUTH_PASSWORD: pulumi.secret(args.authPassword) },
        labels: args.labels,
        networks: [args.dataNetwork],
        healthcheck: {
          tests: ["CMD", "pg_isready", "-h", "127.0.0.1", "-p", String(POOLER_PORT)],
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
