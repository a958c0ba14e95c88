// bench/backup: what a tenant backup and restore cost through backup/ (the agent container, two
// snapshots, verification by reading back, the staged restore and swap), next to the raw floor
// measured in the same run on the same data: `pg_dump | restic backup --stdin` plus
// `tar | restic backup --stdin` for a backup, `restic dump | pg_restore` plus `restic restore` for a
// restore, each in one container of the same image. Then the cost of an unchanged tenant's nightly
// backup (deduplication), and a fleet of --fleet unchanged small tenants backed up at the nightly
// concurrency, extrapolated to 1,000.
// Run: npm run bench:backup [-- --db-mb 200 --files-mb 500 --runs 3 --fleet 50 --concurrency 2]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { BackupAgent } from "../backup/agent";
import { BackupRepository } from "../backup/repository";
import { TenantBackups, type TenantDataLocation } from "../backup/tenant-backups";
import { readLocalImages } from "../automation/local-platform";
import { startPostgresContainer, type PostgresContainer } from "../test/helpers/postgres-container";
import { runToEnd } from "../test/helpers/run-to-end";
import { median, numberArg } from "./stats";

const DB_MB = numberArg("db-mb", 200);
const FILES_MB = numberArg("files-mb", 500);
const RUNS = numberArg("runs", 3);
const FLEET = numberArg("fleet", 50);
const CONCURRENCY = numberArg("concurrency", 2);
const docker = new Docker();
const image = readLocalImages().ODOO_SAAS_BACKUP_AGENT_IMAGE;
const tag = `bench-bk-${process.pid}`;
const PASSWORD = "bench-restic-password-123456";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-bench-backup-"));

const location = (db: string): TenantDataLocation => ({
  tenantId: `${tag}-${db}`,
  database: { host: pg.host, port: 5432, name: db, role: `${db}_role`, password: "tenant-pw" },
  admin: pg.admin,
  volume: `${tag}-${db}-files`,
  networks: [pg.network],
});

let pg: PostgresContainer;
const sql = (text: string, database = "postgres") => pg.sql(database, text);

/** One container of the agent image running a shell script (the floor's raw commands). */
async function raw(script: string, mounts: Docker.MountSettings[], env: string[]): Promise<number> {
  const started = Date.now();
  await runToEnd(docker, {
    image,
    script: `set -euo pipefail; ${script}`,
    env,
    mounts,
    network: pg.network,
    capAdd: ["DAC_READ_SEARCH"],
  });
  return Date.now() - started;
}

const repoMount = (dir: string): Docker.MountSettings => ({
  Type: "bind",
  Source: dir,
  Target: "/repo",
});
const pgEnv = (db: string) => [
  `PGHOST=${pg.host}`,
  `PGUSER=${pg.admin.user}`,
  `PGPASSWORD=${pg.admin.password}`,
  `PGDATABASE=${db}`,
  "RESTIC_REPOSITORY=/repo",
  `RESTIC_PASSWORD=${PASSWORD}`,
];

function engineFor(repoDir: string) {
  fs.mkdirSync(repoDir, { recursive: true });
  return new TenantBackups(
    new BackupAgent(image, new BackupRepository({ location: repoDir, password: PASSWORD }), docker),
  );
}

/** A tenant database of `mb` MB (rows of varied text, like business records) and `filesMb` MB of files. */
async function seed(db: string, mb: number, filesMb: number) {
  await sql(`CREATE ROLE ${db}_role LOGIN PASSWORD 'tenant-pw'`);
  await sql(`CREATE DATABASE ${db} OWNER ${db}_role`);
  const rows = Math.round((mb * 1024 * 1024) / 260);
  await sql(
    `CREATE TABLE res_partner (id bigint PRIMARY KEY, name text, notes text);
     INSERT INTO res_partner SELECT g, 'partner ' || g, md5(g::text) || repeat(md5(random()::text), 6)
       FROM generate_series(1, ${rows}) g;
     ALTER TABLE res_partner OWNER TO ${db}_role;`,
    db,
  );
  await docker.createVolume({ Name: location(db).volume });
  // Attachments: incompressible files of 256 KiB (scans, PDFs, images).
  const files = Math.max(1, Math.round((filesMb * 1024) / 256));
  await raw(
    `mkdir -p /v/filestore/${db} && cd /v/filestore/${db} &&
     for i in $(seq 1 ${files}); do d=$(printf %02x $((i % 256))); mkdir -p $d; head -c 262144 /dev/urandom > $d/f$i; done`,
    [{ Type: "volume", Source: location(db).volume, Target: "/v" }],
    [],
  );
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a: number, b: number) => (a / b).toFixed(2);

async function main() {
  pg = await startPostgresContainer(docker, {
    name: `${tag}-pg`,
    port: 15878,
    maxConnections: 200,
  });
  try {
    let t = Date.now();
    await seed("big", DB_MB, FILES_MB);
    const [{ size }] = await sql("SELECT pg_database_size('big') AS size");
    console.error(
      `[bench] seeded ${(Number(size) / 1048576).toFixed(0)} MB database + ${FILES_MB} MB filestore in ${seconds(Date.now() - t)}`,
    );
    const big = location("big");
    const filesMount = (writable = false): Docker.MountSettings => ({
      Type: "volume",
      Source: big.volume,
      Target: "/filestore",
      ReadOnly: !writable,
    });

    const ours = { backup: [] as number[], unchanged: [] as number[], restore: [] as number[] };
    const floor = { backup: [] as number[], restore: [] as number[] };
    for (let run = 1; run <= RUNS; run++) {
      // Each run into fresh repositories: a first backup, as a new tenant's.
      const oursRepo = path.join(work, `ours-${run}`);
      const floorRepo = path.join(work, `floor-${run}`);
      const engine = engineFor(oursRepo);
      await engine.init();
      fs.mkdirSync(floorRepo);
      await raw(
        "restic init --repository-version 2 >/dev/null",
        [repoMount(floorRepo)],
        pgEnv("big"),
      );

      floor.backup.push(
        await raw(
          `pg_dump --format=custom --compress=0 | restic backup --stdin --stdin-filename db.dump -q
           tar -C /filestore -cf - . | restic backup --stdin --stdin-filename filestore.tar -q`,
          [repoMount(floorRepo), filesMount()],
          pgEnv("big"),
        ),
      );
      t = Date.now();
      const first = await engine.backup(big, {
        id: `00000000-0000-4000-8000-00000000000${run}`,
        reason: "manual",
        plan: "bench",
        odooVersion: "17",
      });
      ours.backup.push(Date.now() - t);
      t = Date.now();
      // The nightly case: nothing written since (the service passes the last good backup).
      const unchanged = await engine.backup(
        big,
        {
          id: `00000000-0000-4000-8000-00000000001${run}`,
          reason: "scheduled",
          plan: "bench",
          odooVersion: "17",
        },
        { previous: { databaseSnapshot: first.databaseSnapshot, fingerprint: first.fingerprint } },
      );
      ours.unchanged.push(Date.now() - t);
      if (!unchanged.databaseReused) throw new Error("the unchanged database was dumped again");

      await sql("CREATE DATABASE floor_restore");
      floor.restore.push(
        await raw(
          `restic dump latest /db.dump --path /db.dump | pg_restore --no-owner -d floor_restore
           mkdir -p /tmp/files && restic dump latest /filestore.tar --path /filestore.tar | tar -C /tmp/files -xf -`,
          [repoMount(floorRepo)],
          pgEnv("big"),
        ),
      );
      await sql("DROP DATABASE floor_restore WITH (FORCE)");
      t = Date.now();
      await engine.restore(first, "big", big, `00000000-0000-4000-8000-00000000002${run}`);
      ours.restore.push(Date.now() - t);
      console.error(
        `[bench] run ${run}: backup ${seconds(ours.backup.at(-1)!)} (floor ${seconds(floor.backup.at(-1)!)}), ` +
          `unchanged ${seconds(ours.unchanged.at(-1)!)}, restore ${seconds(ours.restore.at(-1)!)} (floor ${seconds(floor.restore.at(-1)!)})`,
      );
      fs.rmSync(oursRepo, { recursive: true, force: true });
      fs.rmSync(floorRepo, { recursive: true, force: true });
    }

    // The fleet: small unchanged tenants (a fresh Odoo database is ~20 MB), the nightly run's shape.
    t = Date.now();
    const fleetRepo = path.join(work, "fleet");
    const engine = engineFor(fleetRepo);
    await engine.init();
    const fleet = Array.from({ length: FLEET }, (_, i) => `fleet${i}`);
    for (const db of fleet) await seed(db, 20, 10);
    console.error(`[bench] seeded ${FLEET} tenants of 20 MB + 10 MB in ${seconds(Date.now() - t)}`);
    // Each tenant's last good backup, as the service passes it (an unchanged database reuses it).
    const last = new Map<string, { databaseSnapshot: string; fingerprint: string }>();
    let reused = 0;
    const runAll = async () => {
      const started = Date.now();
      const queue = [...fleet];
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let db = queue.shift(); db; db = queue.shift()) {
            const r = await engine.backup(
              location(db),
              { id: crypto.randomUUID(), reason: "scheduled", plan: "bench", odooVersion: "17" },
              { previous: last.get(db) },
            );
            if (r.databaseReused) reused++;
            last.set(db, { databaseSnapshot: r.databaseSnapshot, fingerprint: r.fingerprint });
          }
        }),
      );
      return Date.now() - started;
    };
    const firstNight = await runAll();
    const secondNight = await runAll();
    if (reused !== FLEET)
      throw new Error(`${FLEET - reused} unchanged databases were dumped again`);
    const perTenant = secondNight / FLEET;
    const thousand = (perTenant * 1000) / 3600_000;

    const m = {
      backup: median(ours.backup),
      floorBackup: median(floor.backup),
      unchanged: median(ours.unchanged),
      restore: median(ours.restore),
      floorRestore: median(floor.restore),
    };
    const lines = [
      `# bench/backup (${DB_MB} MB database + ${FILES_MB} MB filestore, median of ${RUNS}; fleet ${FLEET} x (20 MB + 10 MB) at concurrency ${CONCURRENCY})`,
      "",
      "| measure | ours | floor | ratio | target |",
      "|---|---|---|---|---|",
      `| backup (first, verified) | ${seconds(m.backup)} | ${seconds(m.floorBackup)} | ${ratio(m.backup, m.floorBackup)} | <= 1.3 |`,
      `| restore (staged + swap) | ${seconds(m.restore)} | ${seconds(m.floorRestore)} | ${ratio(m.restore, m.floorRestore)} | <= 1.3 |`,
      `| unchanged tenant's backup (dedup) | ${seconds(m.unchanged)} | | | <= 3 s |`,
      `| fleet: first night | ${seconds(firstNight)} | | | |`,
      `| fleet: unchanged night, per tenant | ${seconds(perTenant)} | | | |`,
      `| 1,000 unchanged tenants (extrapolated) | ${thousand.toFixed(2)} h | | | within the night (< 6 h) |`,
    ];
    console.log(lines.join("\n"));
  } finally {
    await pg.remove();
    for (const v of (await docker.listVolumes()).Volumes ?? [])
      if (v.Name.startsWith(tag))
        await docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
