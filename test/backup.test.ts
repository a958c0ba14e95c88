// The backup layer (backup/) for real: a PostgreSQL container of the platform's image on a Docker
// network, a Docker volume with an Odoo-like filestore, the backup-agent image (restic + pg tools)
// and a restic repository in a temporary directory. Backup → change → restore, restore into another
// database (a clone), restore while sessions are open, an agent killed midway, retention by time.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { Client } from "pg";
import { BackupAgent } from "../backup/agent";
import { BackupRepository } from "../backup/repository";
import { TenantBackups, type TenantDataLocation } from "../backup/tenant-backups";
import { readLocalImages } from "../automation/local-platform";
import { drillScratchVolumes } from "./helpers/drill-volumes";
import { EngineSocket } from "./helpers/engine-socket";
import { startPostgresContainer, type PostgresContainer } from "./helpers/postgres-container";
import { runToEnd } from "./helpers/run-to-end";

const docker = new Docker();
const images = readLocalImages();
const tag = `bk${process.pid}`;
const PG_PORT = 15877;
const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-restic-"));
const repository = new BackupRepository({
  location: repoDir,
  password: "restic-test-password-1234",
});
const agent = new BackupAgent(images.ODOO_SAAS_BACKUP_AGENT_IMAGE, repository, docker);
const backups = new TenantBackups(agent);
let pg: PostgresContainer;

const location = (name: string, volume = `${tag}-${name}-files`): TenantDataLocation => ({
  tenantId: `${tag}-${name}`,
  database: { host: pg.host, port: 5432, name, role: `${name}_role`, password: "tenant-pw" },
  admin: pg.admin,
  volume,
  networks: [pg.network],
});

const sql = (database: string, text: string, as?: { user: string; password: string }) =>
  pg.sql(database, text, as);

/** Runs a shell command in a throwaway container with the volume mounted; its stdout. */
function inVolume(volume: string, script: string): Promise<string> {
  return runToEnd(docker, {
    image: images.ODOO_SAAS_BACKUP_AGENT_IMAGE,
    script,
    mounts: [{ Type: "volume", Source: volume, Target: "/v" }],
  });
}

/** A database like an initialised Odoo one, owned by the tenant role, and its filestore. */
async function seedTenant(name: string) {
  await sql("postgres", `CREATE ROLE ${name}_role LOGIN PASSWORD 'tenant-pw'`);
  await sql("postgres", `CREATE DATABASE ${name} OWNER ${name}_role`);
  const role = { user: `${name}_role`, password: "tenant-pw" };
  await sql(
    name,
    `CREATE TABLE ir_module_module (name text, state text, latest_version text);
     INSERT INTO ir_module_module VALUES ('base', 'installed', '17.0.1.3'), ('web', 'installed', '17.0.1.0');
     CREATE TABLE res_partner (id serial PRIMARY KEY, name text);
     INSERT INTO res_partner (name) SELECT 'partner ' || g FROM generate_series(1, 500) g;`,
    role,
  );
  await docker.createVolume({ Name: location(name).volume });
  await inVolume(
    location(name).volume,
    `mkdir -p /v/filestore/${name}/ab /v/sessions && echo original > /v/filestore/${name}/ab/abc123 &&
     head -c 200000 /dev/urandom > /v/filestore/${name}/ab/big && chown -R 101:101 /v && chmod -R go-rwx /v`,
  );
}

const partners = (db: string) =>
  sql(db, "SELECT count(*)::int AS n FROM res_partner").then((r) => r[0].n as number);
const fileOf = (name: string, db = name) =>
  inVolume(location(name).volume, `cat /v/filestore/${db}/ab/abc123`);

beforeAll(async () => {
  pg = await startPostgresContainer(docker, { name: `${tag}-pg`, port: PG_PORT });
  await seedTenant("acme");
}, 120_000);

afterAll(async () => {
  await pg?.remove();
  for (const v of (await docker.listVolumes()).Volumes ?? [])
    if (v.Name.startsWith(tag))
      await docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined);
  fs.rmSync(repoDir, { recursive: true, force: true });
});

const labels = (id: string, reason: "manual" | "scheduled" = "manual") => ({
  id,
  reason,
  plan: "starter",
  odooVersion: "17",
});

describe("backups with restic, PostgreSQL and a Docker volume", () => {
  let first: Awaited<ReturnType<TenantBackups["backup"]>>;

  it("backs up the database and filestore, the dump verified by reading it back", async () => {
    first = await backups.backup(location("acme"), labels("00000000-0000-4000-8000-000000000001"));
    expect(first.databaseSnapshot).toMatch(/^[0-9a-f]{64}$/);
    expect(first.filestoreSnapshot).toMatch(/^[0-9a-f]{64}$/);
    expect(first.filestoreEntries).toBe(2);
    expect(first.modules).toEqual({ base: "17.0.1.3", web: "17.0.1.0" });
    expect(first.pgVersion).toMatch(/^15\./);
    expect(first.bytesAdded).toBeGreaterThan(0);
  }, 120_000);

  it("a restore drill restores the backup into a scratch database and volume, counts what it holds, leaves nothing", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const result = await backups.drill(first, `drill_${tag}`, location("acme"));
    expect(result).toMatchObject({ tables: 2, modules: 2, files: 2, snapshotFiles: 2 });
    // The scratch database is dropped and the scratch volume removed with the agent.
    expect(
      await sql("postgres", `SELECT 1 FROM pg_database WHERE datname = 'drill_${tag}'`),
    ).toEqual([]);
    const scratch = await drillScratchVolumes(docker, since);
    expect(scratch).toHaveLength(1);
    const left = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name);
    expect(left.filter((v) => scratch.includes(v))).toEqual([]);
    // The tenant's own database and files were never touched.
    expect(await partners("acme")).toBe(500);
    expect(await fileOf("acme")).toBe("original");
  }, 120_000);

  it("a drill of a snapshot gone from the repository fails naming it, and still drops its scratch database", async () => {
    const gone = { ...first, databaseSnapshot: "f".repeat(64) };
    await expect(backups.drill(gone, `drill_${tag}_gone`, location("acme"))).rejects.toThrow(
      /backup agent drill exited with 1: .*(no matching ID|ffffffff)/,
    );
    expect(
      await sql("postgres", `SELECT 1 FROM pg_database WHERE datname = 'drill_${tag}_gone'`),
    ).toEqual([]);
  }, 120_000);

  it("an unchanged database reuses the last verified dump; any write, even a sequence's, makes a new one", async () => {
    const previous = { databaseSnapshot: first.databaseSnapshot, fingerprint: first.fingerprint };
    const again = () =>
      backups.backup(location("acme"), labels(crypto.randomUUID()), {
        previous: { ...previous },
      });
    const unchanged = await again();
    expect(unchanged).toMatchObject({
      databaseReused: true,
      databaseSnapshot: first.databaseSnapshot,
    });
    expect(unchanged.filestoreSnapshot).not.toBe(first.filestoreSnapshot); // the files are always snapshotted
    expect(unchanged.bytesAdded).toBeLessThan(first.bytesAdded / 4); // and deduplicated
    const role = { user: "acme_role", password: "tenant-pw" };
    const writes: [string, string][] = [
      ["an update", "UPDATE res_partner SET name = name || '.' WHERE id = 1"],
      ["a sequence moved without a row", "SELECT nextval('res_partner_id_seq')"],
      [
        "a truncate",
        "CREATE TABLE scratch (x int); INSERT INTO scratch VALUES (1); TRUNCATE scratch",
      ],
    ];
    for (const [what, statement] of writes) {
      await sql("acme", statement, role);
      await new Promise((r) => setTimeout(r, 1500)); // row counters reach the statistics within ~1 s
      const after = await again();
      expect([what, after.databaseReused]).toEqual([what, false]);
      expect(after.fingerprint).not.toBe(previous.fingerprint);
      Object.assign(previous, {
        databaseSnapshot: after.databaseSnapshot,
        fingerprint: after.fingerprint,
      });
    }
    // The planner's statistics are not data: an ANALYZE alone keeps the dump.
    await sql("acme", "ANALYZE", role);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await again()).databaseReused).toBe(true);
  }, 180_000);

  it("restores rows and files to what they were, swapping the database while sessions are open", async () => {
    await sql("acme", "DELETE FROM res_partner WHERE id > 10", {
      user: "acme_role",
      password: "tenant-pw",
    });
    await inVolume(
      location("acme").volume,
      "echo changed > /v/filestore/acme/ab/abc123 && touch /v/filestore/acme/ab/new",
    );
    expect(await partners("acme")).toBe(10);
    // A session Odoo would hold: the restore disconnects it instead of waiting for it.
    const held = new Client({
      host: "127.0.0.1",
      port: PG_PORT, // the published port
      database: "acme",
      user: "acme_role",
      password: "tenant-pw",
    });
    await held.connect();
    held.on("error", () => undefined);
    await backups.restore(first, "acme", location("acme"), "11111111-2222-4333-8444-555555555555");
    expect(await partners("acme")).toBe(500);
    expect(await fileOf("acme")).toBe("original");
    expect(
      await inVolume(
        location("acme").volume,
        "ls /v/filestore/acme/ab; stat -c %u /v/filestore/acme/ab/abc123",
      ),
    ).toBe("abc123\nbig\n101");
    // The restored database is the tenant's: owned by its role, closed to others, nothing left over.
    const [db] = await sql(
      "postgres",
      "SELECT pg_get_userbyid(datdba) AS owner, datacl::text AS acl FROM pg_database WHERE datname = 'acme'",
    );
    expect(db.owner).toBe("acme_role");
    expect(db.acl).not.toMatch(/(^|[{,])=/); // no PUBLIC entry
    const left = await sql(
      "postgres",
      "SELECT datname FROM pg_database WHERE datname LIKE 'acme_%'",
    );
    expect(left).toEqual([]);
    await sql("acme", "INSERT INTO res_partner (name) VALUES ('after restore')", {
      user: "acme_role",
      password: "tenant-pw",
    });
    await held.end().catch(() => undefined);
  }, 180_000);

  it("restores into another tenant's database and volume (a clone), renaming the filestore", async () => {
    await sql("postgres", "CREATE ROLE clone_role LOGIN PASSWORD 'tenant-pw'");
    await docker.createVolume({ Name: location("clone").volume });
    await backups.restore(first, "acme", location("clone"), "22222222-2222-4333-8444-555555555555");
    expect(await partners("clone")).toBe(500);
    expect(await inVolume(location("clone").volume, "cat /v/filestore/clone/ab/abc123")).toBe(
      "original",
    );
    const [t] = await sql(
      "clone",
      "SELECT tableowner FROM pg_tables WHERE tablename = 'res_partner'",
    );
    expect(t.tableowner).toBe("clone_role");
  }, 180_000);

  it("an agent killed midway leaves an error, not a result", async () => {
    const run = backups.backup(location("acme"), labels("00000000-0000-4000-8000-000000000003"));
    const killer = (async () => {
      for (let i = 0; i < 200; i++) {
        const [c] = await docker.listContainers({
          filters: JSON.stringify({
            label: ["odoo-saas.verb=backup"],
            volume: [location("acme").volume],
          }),
        });
        if (c) return docker.getContainer(c.Id).kill();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await expect(run).rejects.toThrow(/backup agent backup exited with 137/);
    await killer;
  }, 120_000);

  it("an engine that cannot be reached (a node down) is named, with the socket's own error", async () => {
    const gone = "/tmp/odoo-saas-no-engine.sock";
    await expect(
      backups.backup(
        { ...location("acme"), engine: { socketPath: gone, host: "" } },
        labels("00000000-0000-4000-8000-000000000004"),
      ),
    ).rejects.toThrow(
      `the Docker engine at unix://${gone} cannot be reached (stopped or restarting?): connect ENOENT ${gone}`,
    );
  });

  it("the engine gone while an agent runs: the run fails at once naming it, never waits for good", async () => {
    const engine = new EngineSocket(
      path.join(os.tmpdir(), `odoo-saas-agent-engine-${process.pid}.sock`),
    );
    await engine.start();
    const run = backups.backup(
      { ...location("acme"), engine: { socketPath: engine.path, host: "" } },
      labels("00000000-0000-4000-8000-000000000005"),
    );
    run.catch(() => undefined);
    // This run's agent only: other suites run agents on the same engine.
    const ours = JSON.stringify({
      label: ["odoo-saas.verb=backup"],
      volume: [location("acme").volume],
    });
    try {
      for (let i = 0; i < 400; i++) {
        const [c] = await docker.listContainers({ filters: ours });
        if (c) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await engine.stop();
      const stopped = Date.now();
      await expect(run).rejects.toThrow(
        `the Docker engine at unix://${engine.path} cannot be reached`,
      );
      expect(Date.now() - stopped).toBeLessThan(10_000);
    } finally {
      await engine.stop().catch(() => undefined);
      // The agent it started runs on (the real engine never went away): gone before the next test.
      for (const c of await docker.listContainers({ all: true, filters: ours }))
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
    }
  }, 120_000);

  it("retention follows the policy on the snapshots' own times (an injected clock)", async () => {
    await seedTenant("ret");
    // A Sunday: days 0-2 share ISO week 48, day 10 is week 47, day 40 October, day 100 August.
    const now = Date.parse("2026-11-29T02:00:00Z");
    const ids = new Map<number, string[]>();
    for (const day of [100, 40, 10, 2, 1, 0]) {
      const b = await backups.backup(location("ret"), {
        ...labels(`00000000-0000-4000-8000-0000000001${String(day).padStart(2, "0")}`, "scheduled"),
        at: new Date(now - day * 86_400_000),
      });
      ids.set(day, [b.databaseSnapshot, b.filestoreSnapshot]);
    }
    const removed = await backups.forget(location("ret").tenantId, {
      daily: 2,
      weekly: 2,
      monthly: 2,
    });
    expect(new Set(removed)).toEqual(new Set([...ids.get(2)!, ...ids.get(100)!]));
    await backups.prune();
    await backups.check("20%"); // the repository is consistent after the prune
    // What is kept still restores: the oldest kept (day 40) reads back.
    await backups.verify({ databaseSnapshot: ids.get(40)![0], filestoreSnapshot: ids.get(40)![1] });
    await expect(
      backups.verify({ databaseSnapshot: ids.get(100)![0], filestoreSnapshot: ids.get(100)![1] }),
    ).rejects.toThrow(/exited with/);
  }, 240_000);

  it("streams the database as plain SQL and one database's filestore as a tar", async () => {
    const sqlDump = await backups.dumpSql(first.databaseSnapshot);
    let text = "";
    sqlDump.stdout.on("data", (c: Buffer) => (text += c.toString()));
    await sqlDump.done;
    expect(text).toContain("COPY public.res_partner");
    expect(text).not.toMatch(/OWNER TO/);
    const files = await backups.dumpFiles(first.filestoreSnapshot, "acme");
    let size = 0;
    files.stdout.on("data", (c: Buffer) => (size += c.length));
    await files.done;
    expect(size).toBeGreaterThan(200_000);
  }, 120_000);
});

describe("usage measured by the agent (the metering's probe), without Odoo", () => {
  const GB = 1e9;
  let metered: TenantDataLocation;
  const as = { user: "metered_role", password: "tenant-pw" };
  /** A user made as Odoo makes one, by the tenant's role; the database's answer. */
  const addUser = (login: string, share = false) =>
    sql(
      "metered",
      `INSERT INTO res_users (login, active, share) VALUES ('${login}', true, ${share})`,
      as,
    )
      .then(() => "created")
      .catch((e: Error) => e.message);

  beforeAll(async () => {
    metered = location("metered");
    // A database as Odoo initialises it: the Odoo stand-in's own `-i base`, no Odoo left running.
    await sql("postgres", `CREATE ROLE metered_role LOGIN PASSWORD 'tenant-pw'`);
    await sql("postgres", `CREATE DATABASE metered OWNER metered_role`);
    const init = await docker.createContainer({
      Image: images.ODOO_SAAS_ODOO_IMAGE_17,
      Cmd: ["odoo", "-d", "metered", "-i", "base", "--stop-after-init", "--without-demo", "all"],
      Env: [`HOST=${pg.host}`, "PORT=5432", "USER=metered_role", "PASSWORD=tenant-pw"],
      HostConfig: { NetworkMode: pg.network },
    });
    await init.start();
    expect((await init.wait()).StatusCode).toBe(0);
    await init.remove({ v: true });
    await docker.createVolume({ Name: metered.volume });
    // A filestore of 1.5 GB (sparse: the metering counts files' sizes, as Odoo's file_size does).
    await inVolume(
      metered.volume,
      "mkdir -p /v/filestore/metered/ab && truncate -s 1500000000 /v/filestore/metered/ab/big",
    );
  }, 120_000);

  it("counts internal users as Odoo does (active, not share) and the database's and filestore's bytes", async () => {
    // A fresh Odoo has one internal user (admin); two more, a portal user, an archived one.
    for (const login of ["sales", "accounts"]) expect(await addUser(login)).toBe("created");
    expect(await addUser("portal-customer", true)).toBe("created");
    await sql("metered", `INSERT INTO res_users (login, active) VALUES ('left', false)`, as);
    const m = await backups.measure(metered);
    const [{ size }] = await sql("metered", "SELECT pg_database_size('metered')::bigint AS size");
    expect(m).toEqual({
      users: 3,
      databaseBytes: Number(size),
      filestoreBytes: expect.any(Number),
      storageBlocked: false,
    });
    expect(m.filestoreBytes).toBeGreaterThanOrEqual(1.5 * GB);
    expect(m.filestoreBytes).toBeLessThan(1.5 * GB + 100_000);
  });

  it("a blocking plan's caps, in force in the database: no further internal user, no new file; reading and share users go on", async () => {
    const m = await backups.measure(metered, { users: 3, storageBytes: 1 * GB });
    expect([m.users, m.storageBlocked]).toEqual([3, true]);
    expect(await addUser("fourth")).toMatch(/Your plan allows 3 internal users/);
    // Nor by bringing an archived one back.
    await expect(
      sql("metered", `UPDATE res_users SET active = true WHERE login = 'left'`, as),
    ).rejects.toThrow(/Your plan allows 3 internal users/);
    expect(await addUser("another-portal-customer", true)).toBe("created");
    await expect(
      sql(
        "metered",
        `INSERT INTO ir_attachment (name, store_fname, checksum, file_size) VALUES ('a.pdf', 'ab/x', 'x', 10)`,
        as,
      ),
    ).rejects.toThrow(/Your plan's storage is full/);
    expect((await sql("metered", "SELECT count(*)::int AS n FROM res_users", as))[0].n).toBe(8);
    // The plan changed to one that bills its overage: both limits lifted at the next measurement.
    await backups.measure(metered);
    expect(await addUser("fourth")).toBe("created");
  });

  it("a database Odoo never initialised is an error naming it, never a zero", async () => {
    await sql("postgres", `CREATE DATABASE empty_one OWNER metered_role`);
    await expect(
      backups.measure({ ...metered, database: { ...metered.database, name: "empty_one" } }),
    ).rejects.toThrow(/the database has no res_users table: Odoo has not initialised it/);
  });
});
