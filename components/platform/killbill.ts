import * as pulumi from "@pulumi/pulumi";
import { postgresHealthcheck } from "../postgres-health";
import { dockerWorkload, type NetworkRef } from "../workload";
import { childOptions, platformVolume, type PlatformPartArgs } from "./platform-part";

export interface KillBillArgs extends PlatformPartArgs {
  /** The Kill Bill image images/build.sh makes (images/killbill: Kill Bill 0.22.26 on Java 17). */
  image: string;
  /** Its PostgreSQL (images/postgres or the official image). */
  databaseImage: string;
  /** The database's superuser password (Kill Bill's schema creates an event trigger: it needs one). */
  databasePassword: pulumi.Input<string>;
  /** Kill Bill's test clock (tests and staging only). */
  testMode: boolean;
  controlNetwork: NetworkRef;
  /** Kaui, Kill Bill's admin UI, routed at `kaui.<domain>` (its image is not obtainable here). */
  kaui?: { image: string; route: pulumi.Input<Record<string, string>>; edgeNetwork: NetworkRef };
  limits: {
    killbill: { cpus: number; memoryMb: number };
    killbillDb: { cpus: number; memoryMb: number };
    kaui: { cpus: number; memoryMb: number };
  };
}

/**
 * Kill Bill answers, and its own check of itself passes. Not the endpoint's overall status: that
 * also holds its queue-growth and connection-pool checks, which fail during a burst of work
 * (killbill-platform#154; they can be turned off only after 0.22), when a restart, which Swarm
 * makes of an unhealthy task, would cure nothing and cost minutes of billing.
 */
export const KILLBILL_ALIVE =
  "curl -sS --max-time 10 http://127.0.0.1:8080/1.0/healthcheck | " +
  `grep -q '"org.killbill.billing.server.healthchecks.KillbillHealthcheck":{"healthy":true'`;

/**
 * The platform's billing: Kill Bill and its PostgreSQL on the control network (only the API talks
 * to Kill Bill; tenants never reach it). The database keeps its data on a volume; Kill Bill loads
 * its schema there on its first start. Both are healthy only once they answer: `pg_isready`, and
 * Kill Bill's own check of itself (`KILLBILL_ALIVE`). Every password reaches them as a Docker secret file on Swarm.
 */
export class KillBill extends pulumi.ComponentResource {
  /** Where the API reaches Kill Bill. */
  readonly url: string;

  constructor(name: string, args: KillBillArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:KillBill", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    const p = args.namePrefix;
    const swarm = args.runtime === "swarm";
    const password = pulumi.secret(args.databasePassword);
    const data = platformVolume(
      `${name}-postgres-data`,
      `${p}-killbill-postgres-data`,
      args.labels,
      child,
    );
    const database = dockerWorkload(
      `${name}-postgres`,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: `${p}-killbill-postgres`,
        placement: swarm ? [args.volumeNode!] : undefined,
        limits: args.limits.killbillDb,
        image: args.databaseImage,
        env: { POSTGRES_USER: "killbill", POSTGRES_DB: "postgres" },
        secretEnv: { POSTGRES_PASSWORD: password },
        labels: args.labels,
        networks: [args.controlNetwork],
        mounts: [{ source: data.name, target: "/var/lib/postgresql/data" }],
        healthcheck: postgresHealthcheck("killbill", "postgres"),
        running: true,
      },
      child,
    );
    dockerWorkload(
      name,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: `${p}-killbill`,
        limits: args.limits.killbill,
        image: args.image,
        env: {
          KILLBILL_DB_HOST: `${p}-killbill-postgres`,
          KILLBILL_DB_USER: "killbill",
          KILLBILL_DB_NAME: "killbill",
          KILLBILL_TEST_MODE: String(args.testMode),
          // The JVM within the container's memory limit (heap three quarters of it).
          KILLBILL_JAVA_OPTS: `-Xmx${Math.floor((args.limits.killbill.memoryMb * 3) / 4)}m`,
        },
        secretEnv: { KILLBILL_DB_PASSWORD: password },
        labels: args.labels,
        // Not routed publicly: only the API (on the control network) talks to Kill Bill.
        networks: [args.controlNetwork],
        healthcheck: {
          tests: ["CMD-SHELL", KILLBILL_ALIVE],
          // Swarm replaces an unhealthy task, and a restart of Kill Bill costs minutes: a busy
          // JVM (a collection, a burst of invoices) must not look dead. Six slow answers in a row
          // (about 90 s) do; a loaded test machine saw three 5 s timeouts in a row.
          intervalSeconds: 15,
          timeoutSeconds: 15,
          retries: 6,
          // The first start loads the schema and the JVM takes its time on small hosts.
          startPeriodSeconds: 180,
        },
        running: true,
      },
      { ...child, dependsOn: database ? [database] : [] },
    );
    this.url = `http://${p}-killbill:8080`;
    if (args.kaui)
      dockerWorkload(
        `${name}-kaui`,
        {
          runtime: args.runtime,
          endpointMode: args.swarmEndpointMode,
          name: `${p}-kaui`,
          limits: args.limits.kaui,
          image: args.kaui.image,
          env: {
            KAUI_CONFIG_DAO_URL: `jdbc:postgresql://${p}-killbill-postgres:5432/kaui`,
            KAUI_CONFIG_DAO_USER: "killbill",
            KAUI_KILLBILL_URL: this.url,
          },
          secretEnv: { KAUI_CONFIG_DAO_PASSWORD: password },
          // Kaui's image maps variables to properties; it reads no *_FILE.
          secretFiles: false,
          labels: args.kaui.route,
          networks: [args.kaui.edgeNetwork, args.controlNetwork],
          running: true,
        },
        child,
      );
    this.registerOutputs({ url: this.url });
  }
}
