// A shared PostgreSQL server (the platform's image), optionally behind the platform's PgBouncer, and
// tenants on it with what the tenant program gives them (a role and database at the program's
// connection limit, closed to PUBLIC; `-i base`; the runtime with the program's command line,
// connected where the program connects it), without the engine: what is measured is connections.
// They run the Odoo stand-in, whose processes keep connections as Odoo's pools do. Used by
// test/shared-postgres-density.test.ts and bench/density.ts.
import Docker from "dockerode";
import { Client } from "pg";
import { readLocalImages } from "../../automation/local-platform";
import { loadCatalog, type Plan } from "../../catalog";
import {
  type PoolerSizing,
  sessionPoolSize,
  sharedConnectionLimit,
  transactionPoolSize,
  transactionPoolSizes,
} from "../../components/platform/shared-postgres-capacity";
import { POOLER_PORT } from "../../components/platform/shared-postgres-pooler";
import { odooCommand, odooInitCommand } from "../../components/tenant/odoo-options";
import { eventually } from "../api-harness";

const docker = new Docker();
const images = readLocalImages();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoadedTenant {
  id: string;
  plan: Plan;
  container: Docker.Container;
  http: string;
  realtime: string;
}

/** One process's pool, as the stand-in reports it (GET /stand-in/pools). */
export interface PoolState {
  process: string;
  max: number;
  open: number;
  peak: number;
  refused: number;
}

export interface LoadResult {
  requests: number;
  failed: number;
  /** The most client connections the server had at once, and each role's most. */
  peak: number;
  peakByRole: Map<string, number>;
  /** Each request's duration, ms. */
  latencies: number[];
}

const published = (ports: number[]) => ({
  ExposedPorts: Object.fromEntries(ports.map((p) => [`${p}/tcp`, {}])),
  PortBindings: Object.fromEntries(ports.map((p) => [`${p}/tcp`, [{ HostIp: "127.0.0.1" }]])),
});

async function hostPort(c: Docker.Container, port: number): Promise<number> {
  return Number((await c.inspect()).NetworkSettings.Ports[`${port}/tcp`][0].HostPort);
}

export class SharedServer {
  private readonly made: Docker.Container[] = [];
  private admin!: Client;
  private readonly net: string;

  constructor(
    name: string,
    readonly maxConnections: number,
    /** Tenants connect through the platform's PgBouncer, sized so. */
    readonly pooler?: PoolerSizing,
  ) {
    this.net = `${name}-${process.pid}`;
  }

  private async run(name: string, spec: Docker.ContainerCreateOptions, ports: number[] = []) {
    const c = await docker.createContainer({
      name: `${this.net}-${name}`,
      ...spec,
      ExposedPorts: published(ports).ExposedPorts,
      HostConfig: { NetworkMode: this.net, PortBindings: published(ports).PortBindings },
    });
    this.made.push(c);
    await c.start();
    return c;
  }

  async start(): Promise<void> {
    await docker.createNetwork({ Name: this.net });
    const pg = await this.run(
      "pg",
      {
        Image: images.ODOO_SAAS_POSTGRES_IMAGE,
        Cmd: ["postgres", "-c", `max_connections=${this.maxConnections}`],
        Env: ["POSTGRES_USER=admin", "POSTGRES_PASSWORD=pw"],
      },
      [5432],
    );
    const port = await hostPort(pg, 5432);
    await eventually(
      async () => {
        const c = new Client({
          host: "127.0.0.1",
          port,
          user: "admin",
          password: "pw",
          database: "postgres",
        });
        try {
          await c.connect();
          this.admin = c;
          return true;
        } catch {
          await c.end().catch(() => undefined);
          return false;
        }
      },
      60_000,
      "PostgreSQL",
    );
    // As the platform does: a pooler per transaction pool size of the shared plans.
    const catalog = loadCatalog();
    for (const size of this.pooler ? transactionPoolSizes(catalog, this.pooler) : [])
      await this.run(`pooler-${size}`, {
        Image: images.ODOO_SAAS_PGBOUNCER_IMAGE,
        Cmd: ["pgbouncer"],
        Env: [
          `POOLER_SERVER_HOST=${this.net}-pg`,
          "POOLER_AUTH_USER=admin",
          "POOLER_AUTH_PASSWORD=pw",
          `POOLER_TRANSACTION_POOL_SIZE=${size}`,
          `POOLER_SESSION_POOL_SIZE=${sessionPoolSize(catalog)}`,
        ],
      });
  }

  async addTenant(id: string, plan: Plan): Promise<LoadedTenant> {
    const limit = sharedConnectionLimit(plan, this.pooler);
    await this.admin.query(`CREATE ROLE "${id}" LOGIN PASSWORD 'pw' CONNECTION LIMIT ${limit}`);
    await this.admin.query(`CREATE DATABASE "${id}" OWNER "${id}" CONNECTION LIMIT ${limit}`);
    await this.admin.query(`REVOKE ALL ON DATABASE "${id}" FROM PUBLIC`);
    const env = [
      ...(this.pooler
        ? [
            `HOST=${this.net}-pooler-${transactionPoolSize(plan, this.pooler)}`,
            `PORT=${POOLER_PORT}`,
          ]
        : [`HOST=${this.net}-pg`]),
      `USER=${id}`,
      "PASSWORD=pw",
    ];
    const image = images.ODOO_SAAS_ODOO_IMAGE_17;
    const init = await this.run(`${id}-init`, { Image: image, Cmd: odooInitCommand(id), Env: env });
    if ((await init.wait()).StatusCode !== 0) throw new Error(`${id}: -i base failed`);
    const container = await this.run(
      id,
      { Image: image, Cmd: odooCommand(plan, id), Env: env },
      [8069, 8072],
    );
    const http = `http://127.0.0.1:${await hostPort(container, 8069)}`;
    const realtime = `http://127.0.0.1:${await hostPort(container, 8072)}`;
    await eventually(
      async () => (await fetch(`${http}/web/health`).catch(() => undefined))?.status === 200,
      60_000,
      `${id} healthy`,
    );
    return { id, plan, container, http, realtime };
  }

  /** Client connections on the server now, by role. */
  async connectionsByRole(): Promise<Map<string, number>> {
    const r = await this.admin.query(
      "SELECT usename, count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY usename",
    );
    return new Map(r.rows.map((row) => [row.usename as string, row.n as number]));
  }

  /**
   * Each tenant under its plan's load for `seconds`: every HTTP worker busy with write requests
   * (300 ms of database work, then a bus notification), as many real-time dispatches at once as
   * its gevent worker's pool serves beside its LISTEN, and every cron worker woken (NOTIFY).
   */
  async load(tenants: LoadedTenant[], seconds: number): Promise<LoadResult> {
    const until = Date.now() + seconds * 1000;
    const result: LoadResult = {
      requests: 0,
      failed: 0,
      peak: 0,
      peakByRole: new Map(),
      latencies: [],
    };
    const loop = async (url: string, method: string) => {
      while (Date.now() < until) {
        const started = Date.now();
        const r = await fetch(url, { method }).catch(() => undefined);
        result.latencies.push(Date.now() - started);
        result.requests++;
        if (r?.status !== 200) result.failed++;
        await r?.arrayBuffer().catch(() => undefined);
      }
    };
    const sample = async () => {
      while (Date.now() < until) {
        let total = 0;
        for (const [role, n] of await this.connectionsByRole()) {
          total += n;
          result.peakByRole.set(role, Math.max(result.peakByRole.get(role) ?? 0, n));
        }
        result.peak = Math.max(result.peak, total);
        await this.admin.query("NOTIFY cron_trigger, 'load'");
        await sleep(250);
      }
    };
    await Promise.all([
      sample(),
      ...tenants.flatMap((t) => [
        ...Array.from({ length: t.plan.odoo.workers }, () =>
          loop(`${t.http}/stand-in/work?ms=300`, "POST"),
        ),
        ...Array.from({ length: t.plan.odoo.dbMaxConnections - 1 }, () =>
          loop(`${t.realtime}/websocket?ms=100`, "GET"),
        ),
      ]),
    ]);
    return result;
  }

  async pools(t: LoadedTenant): Promise<PoolState[]> {
    return ((await (await fetch(`${t.http}/stand-in/pools`)).json()) as { pools: PoolState[] })
      .pools;
  }

  /** Resident memory of a tenant's container (its cgroup's usage less reclaimable file cache). */
  async memoryMb(t: LoadedTenant): Promise<number> {
    const s = await t.container.stats({ stream: false });
    const inactive =
      s.memory_stats.stats?.inactive_file ?? s.memory_stats.stats?.total_inactive_file ?? 0;
    return (s.memory_stats.usage - inactive) / 1024 / 1024;
  }

  /** Sessions LISTENing on `postgres` (Odoo's cron and bus workers), by role. */
  async listenersByRole(): Promise<Map<string, number>> {
    const r = await this.admin.query(
      "SELECT usename, count(*)::int AS n FROM pg_stat_activity WHERE datname = 'postgres' AND query ILIKE 'LISTEN %' GROUP BY usename",
    );
    return new Map(r.rows.map((row) => [row.usename as string, row.n as number]));
  }

  /** Restarts the poolers (as their restart policy would after a crash). */
  async restartPoolers(): Promise<void> {
    for (const c of this.made)
      if ((await c.inspect()).Name.includes("-pooler-")) await c.restart({ t: 1 });
  }

  async stop(): Promise<void> {
    await this.admin?.end().catch(() => undefined);
    for (const c of this.made.reverse())
      await c.remove({ force: true, v: true }).catch(() => undefined);
    await docker
      .getNetwork(this.net)
      .remove()
      .catch(() => undefined);
  }
}
