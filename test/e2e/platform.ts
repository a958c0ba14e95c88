// The real-engine suite's platform: the platform stack run inline through the automation layer on
// the local Docker engine (container runtime or Swarm), with the images images/build.sh made here,
// the bridged docker provider, and a file:// state backend in a temporary directory.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { Client } from "pg";
import { StackRunner, TenantStacks } from "../../automation";
import type { AutomationSettings } from "../../automation/settings";
import type { Runtime } from "../../components/workload";
import type { PlatformConfigInput } from "../../components/platform/platform-config";
import {
  localPlatformConfig,
  PLATFORM_PROJECT,
  platformTarget,
  requestByHost,
  waitForLocalPlatform,
} from "../../automation/local-platform";
import { eventually } from "../api-harness";

export const BASE_DOMAIN = "odoo-e2e.test";

export const docker = new Docker();

/** The running container of a workload (a Swarm service: its task's container), if any. */
export async function runningContainer(runtime: Runtime, name: string) {
  const filters =
    runtime === "swarm"
      ? { label: [`com.docker.swarm.service.name=${name}`] }
      : { name: [`^/${name}$`] };
  const [c] = await docker.listContainers({ filters: JSON.stringify(filters) });
  return c as Docker.ContainerInfo | undefined;
}

export interface E2EPlatform {
  runtime: Runtime;
  prefix: string;
  settings: AutomationSettings;
  runner: StackRunner;
  tenants: TenantStacks;
  httpsPort: number;
  pgPort: number;
  adminPassword: string;
  /** A client of the platform's PostgreSQL as its administrator. */
  admin(database?: string): Promise<Client>;
  /** Runs the platform stack again with its configuration changed (as an operator's PR would). */
  reconfigure(change: (c: PlatformConfigInput) => PlatformConfigInput): Promise<void>;
  /** Destroys the platform stack, then removes anything labelled as the platform's that is left. */
  teardown(): Promise<void>;
}

/** One platform per suite (suites may run at once): its name prefix and loopback ports. */
const PLATFORMS = {
  e2ec: { http: 18080, https: 18443, pg: 15433 },
  e2es: { http: 18180, https: 18543, pg: 15533 },
  e2ea: { http: 18280, https: 18643, pg: 15633 },
  e2eb: { http: 18380, https: 18743, pg: 15733 },
  e2ed: { http: 18480, https: 18843, pg: 15833 },
  e2ef: { http: 18580, https: 18943, pg: 15933 },
  e2eg: { http: 18680, https: 19043, pg: 16033 },
  e2eh: { http: 18780, https: 19143, pg: 16133 },
  e2ei: { http: 18880, https: 19243, pg: 16233 },
  e2ej: { http: 19080, https: 19443, pg: 16433 },
  e2ek: { http: 19180, https: 19543, pg: 16533 },
  // On a cluster: the manager's ports, forwarded from this host's loopback.
  e2el: { http: 19280, https: 19643, pg: 16633 },
  e2em: { http: 19380, https: 19743, pg: 16733 },
  e2en: { http: 19480, https: 19843, pg: 16833 },
  e2eo: { http: 19580, https: 19943, pg: 16933 },
  e2ep: { http: 19680, https: 20043, pg: 17033 },
};

/** A platform's loopback ports. */
export const platformPorts = (name: PlatformName) => PLATFORMS[name];
export type PlatformName = keyof typeof PLATFORMS;

/** Brings the platform stack up (Traefik, PostgreSQL, Redis, networks) and waits until it serves. */
export async function startPlatform(
  runtime: Runtime,
  prefix: PlatformName,
  opts: {
    healthcheckIntervalSeconds?: number;
    /** More of the platform's config (Kill Bill, the API), and its secret config. */
    config?: (c: PlatformConfigInput) => PlatformConfigInput;
    secretConfig?: Record<string, string>;
    /** The suite's tenants: what a killed earlier run left of them goes first. */
    tenants?: string[];
    /** The images by images.env variable (a cluster's: names in its registry); default this host's. */
    images?: Record<string, string>;
  } = {},
): Promise<E2EPlatform> {
  const ports = PLATFORMS[prefix];
  // A run killed mid-suite (no afterAll) leaves its platform and tenants on the engine, and
  // engines outlive runs: start from nothing, as a fresh machine would.
  await sweepTenants(opts.tenants ?? []);
  await sweep(prefix);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `odoo-saas-e2e-${prefix}-`));
  const settings: AutomationSettings = {
    dataDir,
    backendUrl: `file://${path.join(dataDir, "state")}`,
    passphrase: "e2e-test-passphrase",
    maxConcurrentRuns: 4,
    platformStack: `organization/${PLATFORM_PROJECT}/${prefix}`,
  };
  const runner = new StackRunner(settings);
  const adminPassword = `pw-${Math.random().toString(36).slice(2)}`;
  const options = {
    runtime,
    namePrefix: prefix,
    baseDomain: BASE_DOMAIN,
    httpPort: ports.http,
    httpsPort: ports.https,
    postgresPort: ports.pg,
    healthcheckIntervalSeconds: opts.healthcheckIntervalSeconds ?? 1,
  };
  const config = (opts.config ?? ((c) => c))(localPlatformConfig(options, opts.images));
  const target = platformTarget(prefix, config, adminPassword, opts.secretConfig);
  const teardown = async () => {
    try {
      await runner.destroy(target);
    } finally {
      await sweep(prefix);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const admin = async (database = "postgres") => {
    const client = new Client({
      host: "127.0.0.1",
      port: ports.pg,
      user: "saas_admin",
      password: adminPassword,
      database,
    });
    await client.connect();
    return client;
  };
  try {
    await runner.up(target);
    await waitForLocalPlatform(options, adminPassword);
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
  return {
    runtime,
    prefix,
    settings,
    runner,
    tenants: new TenantStacks(runner),
    httpsPort: ports.https,
    pgPort: ports.pg,
    adminPassword,
    admin,
    reconfigure: async (change) => {
      await runner.up(platformTarget(prefix, change(config), adminPassword, opts.secretConfig));
    },
    teardown,
  };
}

/** The automation environment of an API that manages this platform's tenants. */
export const apiEnvFor = (p: E2EPlatform) => ({
  ODOO_SAAS_DATA_DIR: p.settings.dataDir,
  PULUMI_BACKEND_URL: p.settings.backendUrl,
  PULUMI_CONFIG_PASSPHRASE: p.settings.passphrase,
  ODOO_SAAS_PLATFORM_STACK: p.settings.platformStack,
  // Converged means answering through this platform's Traefik, reached on loopback.
  EDGE_PROBE: `https://127.0.0.1:${p.httpsPort}`,
  TRAEFIK_NAME: `${p.prefix}-traefik`,
});

/** Removes what a platform left on the engine (services, containers, secrets, volumes, networks). */
export const sweep = (prefix: string) =>
  sweepLabelled([`odoo-saas.platform=${prefix}`], [`${prefix}-`]);

/** Removes what tenants left on the engine (their runtime, volumes, one-shot containers, secrets). */
export const sweepTenants = (tenantIds: string[]) =>
  sweepLabelled(
    tenantIds.map((t) => `odoo-saas.tenant=${t}`),
    tenantIds.map((t) => `odoo-${t}-`),
  );

/**
 * Removes what carries any of `labels` (services, containers, then volumes and networks), and the
 * Swarm secrets named with any of `secretPrefixes` (they carry no labels: a run killed before its
 * teardown leaves them, and the next run's secret of the same name and content would clash).
 */
export async function sweepLabelled(
  labels: string[],
  secretPrefixes: string[] = [],
): Promise<void> {
  const swarm = (await docker.info()).Swarm?.LocalNodeState === "active";
  const ignore = () => undefined;
  for (const label of labels) {
    const byLabel = { filters: JSON.stringify({ label: [label] }) };
    const networks = await docker.listNetworks(byLabel);
    const networkIds = new Set(networks.map((n) => n.Id));
    // Labelled, or attached to a labelled network whatever their labels (a tenant's runtime on
    // the platform's networks), since a network goes only once nothing uses it.
    if (swarm)
      for (const s of await docker.listServices())
        if (
          s.Spec?.Labels?.[label.split("=")[0]] === label.split("=")[1] ||
          s.Spec?.TaskTemplate?.Networks?.some((n) => networkIds.has(n.Target ?? ""))
        )
          await docker.getService(s.ID).remove().catch(ignore);
    const attached = await Promise.all(
      networks.map(async (n) =>
        Object.keys((await docker.getNetwork(n.Id).inspect()).Containers ?? {}),
      ),
    );
    const labelled = (await docker.listContainers({ all: true, ...byLabel })).map((c) => c.Id);
    for (const id of new Set([...labelled, ...attached.flat()]))
      await docker.getContainer(id).remove({ force: true }).catch(ignore);
  }
  // Containers of removed services go away shortly after; volumes and networks only then.
  await eventually(
    async () => {
      for (const label of labels) {
        const byLabel = { filters: JSON.stringify({ label: [label] }) };
        const { Volumes } = await docker.listVolumes(byLabel);
        for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove();
        for (const n of await docker.listNetworks(byLabel)) await docker.getNetwork(n.Id).remove();
      }
      if (swarm)
        for (const secret of await docker.listSecrets())
          if (secretPrefixes.some((p) => secret.Spec?.Name?.startsWith(p)))
            await docker.getSecret(secret.ID).remove();
      return true;
    },
    30000,
    `engine clean of ${labels.join(", ")}`,
  );
}

/** HTTPS through Traefik on loopback by host name (the local platform's helper). */
export const request = requestByHost;

/** The tenant answers through Traefik: Odoo's health on 8069 and its real-time path on 8072. */
/**
 * Waits until the tenant has answered through Traefik for 2.5 s without a miss: right after a
 * container is replaced, the old one's route can still answer (a reused address) until Traefik
 * applies the change (it batches provider events for 2 s) and routes the new one once healthy,
 * so one answer alone proves nothing.
 */
export async function waitReachable(p: E2EPlatform, host: string, timeoutMs = 90000) {
  let since: number | undefined;
  return eventually(
    async () => {
      const ok = (await request(p.httpsPort, host, "/web/health")).status === 200;
      since = ok ? (since ?? Date.now()) : undefined;
      return since !== undefined && Date.now() - since >= 2500;
    },
    timeoutMs,
    `${host} reachable through Traefik`,
  );
}

/**
 * Requests `/web/health` through Traefik every 100 ms while `work` runs, and after it until the
 * host answered for 2.5 s in a row: how many failed, and the longest stretch without an answer.
 */
export async function unavailabilityDuring<T>(
  p: E2EPlatform,
  host: string,
  work: () => Promise<T>,
): Promise<{ result: T; requests: number; failed: number; longestOutageMs: number }> {
  let done = false;
  let requests = 0;
  let failed = 0;
  let longestOutageMs = 0;
  let lastOk = Date.now();
  let okSince: number | undefined;
  const probe = (async () => {
    for (;;) {
      const started = Date.now();
      const ok = await request(p.httpsPort, host, "/web/health")
        .then((r) => r.status === 200)
        .catch(() => false);
      requests++;
      if (ok) {
        lastOk = Date.now();
        okSince ??= lastOk;
      } else {
        failed++;
        okSince = undefined;
        longestOutageMs = Math.max(longestOutageMs, Date.now() - lastOk);
      }
      if (done && okSince !== undefined && Date.now() - okSince >= 2500) return;
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
    }
  })();
  const result = await work().finally(() => (done = true));
  await probe;
  return { result, requests, failed, longestOutageMs };
}
