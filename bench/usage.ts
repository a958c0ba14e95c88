// bench/usage: what usage metering costs per tenant at fleet size, and what it does to tenants
// while it runs. --tenants databases (Odoo-shaped: the stand-in's `-i base`, 25 users, a few MB)
// on one PostgreSQL container of the platform's image, each with a filestore volume. Measured
// side by side in one run:
//   - the metering as the API does it: the backup agent's `measure` per tenant, one at a time;
//   - the floor: the same reads bare from this host (the two queries over one connection, and
//     `du` of the volume's directory), no container;
//   - a tenant's response time (the Odoo stand-in's /web/login, every 100 ms) idle, then while
//     the metering runs.
// Run: npm run bench:usage [-- --tenants 200]
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import Docker from "dockerode";
import { Client } from "pg";
import { BackupAgent } from "../backup/agent";
import { BackupRepository } from "../backup/repository";
import { TenantBackups, type TenantDataLocation } from "../backup/tenant-backups";
import { readLocalImages } from "../automation/local-platform";
import { startPostgresContainer, type PostgresContainer } from "../test/helpers/postgres-container";
import { runToEnd } from "../test/helpers/run-to-end";
import { median, numberArg, percentile } from "./stats";

const TENANTS = numberArg("tenants", 200);
const PG_PORT = 15899;
const docker = new Docker();
const images = readLocalImages();
const tag = `bench-usage-${process.pid}`;
const repoDir = fs.mkdtempSync(`/tmp/${tag}-`);
const backups = new TenantBackups(
  new BackupAgent(
    images.ODOO_SAAS_BACKUP_AGENT_IMAGE,
    new BackupRepository({ location: repoDir, password: "bench-restic-password-123456" }),
    docker,
  ),
);
let pg: PostgresContainer;
const db = (i: number) => `t${i}`;
const location = (i: number): TenantDataLocation => ({
  tenantId: `${tag}-${i}`,
  database: { host: pg.host, port: 5432, name: db(i), role: "tenant", password: "tenant-pw" },
  admin: pg.admin,
  volume: `${tag}-${i}`,
  networks: [pg.network],
});

/** One container to its end (`shell`: a bash script instead of the image's command). */
async function run(
  image: string,
  cmd: string[],
  env: string[],
  mounts: Docker.MountSettings[] = [],
  script?: string,
) {
  await runToEnd(docker, { image, cmd, script, env, mounts, network: pg.network });
}

async function setUp() {
  pg = await startPostgresContainer(docker, {
    name: `${tag}-pg`,
    port: PG_PORT,
    maxConnections: 300,
  });
  await pg.sql("postgres", "CREATE ROLE tenant LOGIN PASSWORD 'tenant-pw' CREATEDB");
  await pg.sql("postgres", "CREATE DATABASE tpl OWNER tenant");
  const odoo = images.ODOO_SAAS_ODOO_IMAGE_17;
  const pgEnv = [`HOST=${pg.host}`, "PORT=5432", "USER=tenant", "PASSWORD=tenant-pw"];
  await run(odoo, ["odoo", "-d", "tpl", "-i", "base", "--stop-after-init"], pgEnv);
  await pg.sql(
    "tpl",
    `INSERT INTO res_users (login) SELECT 'user-' || g FROM generate_series(1, 24) g;
     CREATE TABLE mail_message (id serial PRIMARY KEY, body text);
     INSERT INTO mail_message (body) SELECT repeat('x', 500) FROM generate_series(1, 5000);`,
    { user: "tenant", password: "tenant-pw" },
  );
  for (let i = 0; i < TENANTS; i++)
    await pg.sql("postgres", `CREATE DATABASE ${db(i)} TEMPLATE tpl OWNER tenant`);
  // The volumes, 50 at a time: 20 files of 40 KB each.
  for (let from = 0; from < TENANTS; from += 50) {
    const ids = [...Array(Math.min(50, TENANTS - from)).keys()].map((k) => from + k);
    for (const i of ids) await docker.createVolume({ Name: location(i).volume });
    await run(
      images.ODOO_SAAS_BACKUP_AGENT_IMAGE,
      [],
      [],
      ids.map((i) => ({ Type: "volume" as const, Source: location(i).volume, Target: `/v${i}` })),
      ids
        .map(
          (i) =>
            `mkdir -p /v${i}/filestore/${db(i)}/ab && for f in $(seq 20); do head -c 40000 /dev/urandom > /v${i}/filestore/${db(i)}/ab/$f; done`,
        )
        .join(" && "),
    );
  }
}

/** The reads bare, from this host: two queries on one connection, `du` of the volume's data. */
async function floor(i: number): Promise<number> {
  const started = performance.now();
  const c = new Client({ host: "127.0.0.1", port: PG_PORT, database: db(i), ...pg.admin });
  await c.connect();
  await c.query("SELECT count(*) FROM res_users WHERE active AND NOT share");
  await c.query("SELECT pg_database_size(current_database())");
  await c.end();
  const dir = (await docker.getVolume(location(i).volume).inspect()).Mountpoint;
  execFileSync("du", ["-sb", dir]);
  return performance.now() - started;
}

/** The Odoo stand-in of tenant 0, published on loopback; its /web/login timed until `stop`. */
async function tenantResponses(stop: () => boolean): Promise<number[]> {
  const times: number[] = [];
  while (!stop()) {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${odooPort}/web/login`);
    await res.arrayBuffer();
    times.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 100));
  }
  return times;
}
let odooPort = 0;

async function main() {
  const started = Date.now();
  await setUp();
  console.log(
    `[usage] ${TENANTS} tenants set up in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  const odoo = await docker.createContainer({
    Image: images.ODOO_SAAS_ODOO_IMAGE_17,
    name: `${tag}-odoo`,
    Cmd: ["odoo", "-d", db(0), "--workers", "2"],
    Env: [`HOST=${pg.host}`, "PORT=5432", "USER=tenant", "PASSWORD=tenant-pw"],
    ExposedPorts: { "8069/tcp": {} },
    HostConfig: {
      NetworkMode: pg.network,
      PortBindings: { "8069/tcp": [{ HostIp: "127.0.0.1", HostPort: "0" }] },
    },
  });
  await odoo.start();
  odooPort = Number((await odoo.inspect()).NetworkSettings.Ports["8069/tcp"]![0].HostPort);
  for (let t = 0; t < 60; t++) {
    const ok = await fetch(`http://127.0.0.1:${odooPort}/web/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    const floors: number[] = [];
    for (let i = 0; i < TENANTS; i++) floors.push(await floor(i));
    const idle = await tenantResponses(
      (
        (end) => () =>
          Date.now() > end
      )(Date.now() + 15_000),
    );
    const agent: number[] = [];
    let done = false;
    const during = tenantResponses(() => done);
    const runStarted = Date.now();
    for (let i = 0; i < TENANTS; i++) {
      const s = performance.now();
      const m = await backups.measure(location(i));
      agent.push(performance.now() - s);
      if (m.users !== 25) throw new Error(`tenant ${i}: ${m.users} users measured, 25 expected`);
    }
    const runMs = Date.now() - runStarted;
    done = true;
    const busy = await during;
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.log(
      `[usage] metering, ${TENANTS} tenants one at a time: ${(runMs / 1000).toFixed(1)} s in all`,
    );
    console.log(
      `[usage] per tenant: agent median ${ms(median(agent))} (p95 ${ms(percentile(agent, 95))}) vs floor (bare reads) median ${ms(median(floors))}: ${(median(agent) / median(floors)).toFixed(1)}x`,
    );
    console.log(
      `[usage] a tenant's /web/login: idle median ${ms(median(idle))} p95 ${ms(percentile(idle, 95))} (${idle.length}) vs during metering median ${ms(median(busy))} p95 ${ms(percentile(busy, 95))} (${busy.length}): ${(median(busy) / median(idle)).toFixed(2)}x`,
    );
  } finally {
    await odoo.remove({ force: true, v: true });
  }
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    await pg?.remove();
    for (const v of (await docker.listVolumes()).Volumes ?? [])
      if (v.Name.startsWith(tag))
        await docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined);
    fs.rmSync(repoDir, { recursive: true, force: true });
  });
