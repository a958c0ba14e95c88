import * as os from "node:os";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { Client } from "pg";
import type { Stack } from "@pulumi/pulumi/automation";
import type { StackRunner, StackTarget, UpOutcome } from ".";
import type { PlatformConfigInput } from "../components/platform/platform-config";
import { ODOO_VERSIONS } from "../components/tenant/odoo-versions";
import type { Runtime } from "../components/workload";
import { platformProgram } from "../stacks/platform/program";

/** The platform's Pulumi project (Pulumi.yaml); its config keys live in this namespace. */
export const PLATFORM_PROJECT = "odoo-saas-platform";

/** images/images.env: the images images/build.sh made on this machine, by variable. */
export function readLocalImages(file = path.join(__dirname, "..", "images", "images.env")) {
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing: run images/build.sh (scripts/prepare.sh does)`);
  const images: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) images[line.slice(0, at)] = line.slice(at + 1);
  }
  for (const key of ["POSTGRES", "PGBOUNCER", "REDIS", "SOCAT", "TENANT_GATEWAY", "TRAEFIK"])
    if (!images[`ODOO_SAAS_${key}_IMAGE`])
      throw new Error(`${file} has no ${key} image: run images/build.sh`);
  return images;
}

export interface LocalPlatformOptions {
  runtime: Runtime;
  namePrefix: string;
  baseDomain: string;
  httpPort: number;
  httpsPort: number;
  postgresPort: number;
  /** How often Odoo's health is checked until healthy (Traefik routes a tenant once it is). */
  healthcheckIntervalSeconds?: number;
  /** How often a healthy Odoo is checked. */
  healthcheckSteadySeconds?: number;
}

/**
 * A platform on this machine's engine with the locally built images (the Odoo stand-in among
 * them): every port published on loopback only, no ACME, Swarm services reached by DNS
 * round-robin (this machine's kernel has no IPVS).
 */
export function localPlatformConfig(
  o: LocalPlatformOptions,
  images = readLocalImages(),
): PlatformConfigInput {
  return {
    baseDomain: o.baseDomain,
    runtime: o.runtime,
    swarmEndpointMode: "dnsrr",
    namePrefix: o.namePrefix,
    traefik: {
      image: images.ODOO_SAAS_TRAEFIK_IMAGE,
      httpPort: o.httpPort,
      httpsPort: o.httpsPort,
      publishHostIp: "127.0.0.1",
      // A restarted Swarm tenant routed within 2 s (a handful of services: the reads are cheap).
      swarmRefreshSeconds: 2,
    },
    postgres: {
      mode: "container",
      image: images.ODOO_SAAS_POSTGRES_IMAGE,
      publishPort: o.postgresPort,
      adminRelayImage: images.ODOO_SAAS_SOCAT_IMAGE,
      maxConnections: 300,
      // Tenants' Odoo through PgBouncer: 56 trials fit in the 300 connections instead of 23.
      pooler: { enabled: true, image: images.ODOO_SAAS_PGBOUNCER_IMAGE },
    },
    redis: { image: images.ODOO_SAAS_REDIS_IMAGE },
    // Docker refuses a CPU limit above the host's: the shared server's default (2) fits small hosts.
    limits: { postgres: { cpus: Math.min(2, os.cpus().length), memoryMb: 4096 } },
    odooImages: Object.fromEntries(
      ODOO_VERSIONS.filter((v) => images[`ODOO_SAAS_ODOO_IMAGE_${v}`]).map((v) => [
        v,
        images[`ODOO_SAAS_ODOO_IMAGE_${v}`],
      ]),
    ),
    dedicatedPostgresImage: images.ODOO_SAAS_POSTGRES_IMAGE,
    tenantGatewayImage: images.ODOO_SAAS_TENANT_GATEWAY_IMAGE,
    // This host may be smaller than the dedicated plans (4 and 8 CPUs): their CPU limit is capped
    // at the host's, which Docker accepts. Production platforms set no cap.
    tenantLimitCap: { cpus: os.cpus().length },
    odooHealthcheckIntervalSeconds: o.healthcheckIntervalSeconds ?? 2,
    ...(o.healthcheckSteadySeconds
      ? { odooHealthcheckSteadySeconds: o.healthcheckSteadySeconds }
      : {}),
  };
}

/** The platform stack as an inline program, its config (and admin password) set before each run. */
export function platformTarget(
  stack: string,
  config: PlatformConfigInput,
  postgresAdminPassword: string,
  /** Further secret config (Kill Bill's and the API's: `killbillDatabasePassword`, `api*`). */
  secretConfig: Record<string, string> = {},
): StackTarget {
  return {
    project: PLATFORM_PROJECT,
    stack,
    program: async () => platformProgram(),
    secrets: [postgresAdminPassword, ...Object.values(secretConfig)],
    prepare: async (s: Stack) => {
      await s.setAllConfig({
        ...Object.fromEntries(
          Object.entries(config).map(([k, v]) => [
            `${PLATFORM_PROJECT}:${k}`,
            { value: typeof v === "string" ? v : JSON.stringify(v) },
          ]),
        ),
        [`${PLATFORM_PROJECT}:postgresAdminPassword`]: {
          value: postgresAdminPassword,
          secret: true,
        },
        ...Object.fromEntries(
          Object.entries(secretConfig).map(([k, v]) => [
            `${PLATFORM_PROJECT}:${k}`,
            { value: v, secret: true },
          ]),
        ),
      });
      return [];
    },
  };
}

export function upPlatform(
  runner: StackRunner,
  stack: string,
  config: PlatformConfigInput,
  postgresAdminPassword: string,
): Promise<UpOutcome> {
  return runner.up(platformTarget(stack, config, postgresAdminPassword));
}

/** Resolves once the platform's PostgreSQL accepts its administrator and Traefik answers HTTPS. */
export async function waitForLocalPlatform(
  o: LocalPlatformOptions,
  postgresAdminPassword: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const until = async (what: string, check: () => Promise<unknown>) => {
    for (;;) {
      try {
        await check();
        return;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(`${what} did not answer: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  await until("the platform's PostgreSQL", async () => {
    const client = new Client({
      host: "127.0.0.1",
      port: o.postgresPort,
      user: "saas_admin",
      password: postgresAdminPassword,
      database: "postgres",
    });
    await client.connect();
    await client.end();
  });
  await until("Traefik", () => requestByHost(o.httpsPort, `nobody.${o.baseDomain}`, "/"));
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** HTTPS to Traefik on loopback, addressed by host name (SNI and Host), self-signed accepted. */
export function requestByHost(
  port: number,
  host: string,
  urlPath: string,
  opts: {
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<HttpReply> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: urlPath,
        method: opts.method ?? "GET",
        servername: host,
        headers: {
          ...opts.headers,
          Host: host,
          ...(payload
            ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }
            : {}),
        },
        rejectUnauthorized: false,
        timeout: opts.timeoutMs ?? 10000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${host}${urlPath}`)));
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}
