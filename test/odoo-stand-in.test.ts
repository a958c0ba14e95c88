// The Odoo stand-in image (images/odoo-stand-in) behaves like the official image and Odoo where
// the project relies on them: on the real engine, against the PostgreSQL image built here.
import * as fs from "node:fs";
import { demuxed, execOutput } from "./helpers/docker-output";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { readLocalImages } from "../automation/local-platform";
import { eventually } from "./api-harness";

const docker = new Docker();
const images = readLocalImages();
const NET = `stand-in-test-${process.pid}`;
const PG = `${NET}-pg`;
const made: Docker.Container[] = [];
let pg: Docker.Container;
const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), "stand-in-secret-"));

async function run(
  image: string,
  cmd: string[],
  opts: { env?: string[]; name?: string; binds?: string[] } = {},
): Promise<Docker.Container> {
  const c = await docker.createContainer({
    name: opts.name,
    Image: image,
    Cmd: cmd,
    Env: opts.env,
    HostConfig: { NetworkMode: NET, Binds: opts.binds },
  });
  made.push(c);
  await c.start();
  return c;
}

const logs = async (c: Docker.Container) => demuxed(await c.logs({ stdout: true, stderr: true }));

/** An HTTP GET from inside the container (the stand-in image has curl), as its health check does. */
async function curl(c: Docker.Container, url: string): Promise<number> {
  const out = await execOutput(c, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url]);
  return Number(out.trim());
}

const connection = (db: string) => ["HOST=" + PG, "USER=admin", "PASSWORD=pw", `DB=${db}`];

beforeAll(async () => {
  await docker.createNetwork({ Name: NET });
  pg = await run(images.ODOO_SAAS_POSTGRES_IMAGE, ["postgres"], {
    name: PG,
    env: ["POSTGRES_USER=admin", "POSTGRES_PASSWORD=pw"],
  });
  await eventually(
    async () => (await logs(pg)).includes("ready to accept connections"),
    60000,
    "pg",
  );
}, 120000);

afterAll(async () => {
  for (const c of made) await c.remove({ force: true, v: true }).catch(() => undefined);
  await docker
    .getNetwork(NET)
    .remove()
    .catch(() => undefined);
  fs.rmSync(secretDir, { recursive: true, force: true });
});

describe("the Odoo stand-in", () => {
  it("refuses an uninitialised database: 500 and Odoo's 'not initialized' log line", async () => {
    const create = await pg.exec({
      Cmd: ["psql", "-U", "admin", "-d", "postgres", "-c", "CREATE DATABASE empty_db"],
    });
    await new Promise((resolve) => create.start({}).then((s) => s.on("end", resolve).resume()));
    const odoo = await run(images.ODOO_SAAS_ODOO_IMAGE_17, ["odoo", "--database=empty_db"], {
      env: connection("empty_db"),
    });
    await eventually(
      async () => (await logs(odoo)).includes("HTTP service running"),
      30000,
      "start",
    );
    expect(await curl(odoo, "http://127.0.0.1:8069/web/health")).toBe(500);
    expect(await logs(odoo)).toMatch(
      /Database empty_db not initialized, you can force it with `-i base`/,
    );
  });

  it("-i base --stop-after-init initialises and exits 0; then /web/health answers", async () => {
    const init = await run(
      images.ODOO_SAAS_ODOO_IMAGE_17,
      ["odoo", "--database=ready_db", "-i", "base", "--without-demo=all", "--stop-after-init"],
      { env: connection("ready_db") },
    );
    expect((await init.wait()).StatusCode).toBe(0);
    const odoo = await run(
      images.ODOO_SAAS_ODOO_IMAGE_17,
      ["odoo", "--database=ready_db", "--workers=2"],
      {
        env: connection("ready_db"),
      },
    );
    await eventually(
      async () => (await curl(odoo, "http://127.0.0.1:8069/web/health")) === 200,
      30000,
      "health",
    );
    expect(await curl(odoo, "http://127.0.0.1:8072/websocket")).toBe(200);
    expect(await curl(odoo, "http://127.0.0.1:8072/web/login")).toBe(404);
    // SIGTERM stops it cleanly.
    await odoo.stop({ t: 10 });
    expect((await odoo.inspect()).State.ExitCode).toBe(0);
  });

  it("Odoo 14 has no /web/health, and its real-time path is /longpolling/", async () => {
    const init = await run(
      images.ODOO_SAAS_ODOO_IMAGE_14,
      ["odoo", "--database=v14_db", "-i", "base", "--stop-after-init"],
      { env: connection("v14_db") },
    );
    expect((await init.wait()).StatusCode).toBe(0);
    const odoo = await run(
      images.ODOO_SAAS_ODOO_IMAGE_14,
      ["odoo", "--database=v14_db", "--workers=1"],
      {
        env: connection("v14_db"),
      },
    );
    await eventually(
      async () => (await curl(odoo, "http://127.0.0.1:8069/web/login")) === 200,
      30000,
      "up",
    );
    expect(await curl(odoo, "http://127.0.0.1:8069/web/health")).toBe(404);
    expect(await curl(odoo, "http://127.0.0.1:8072/longpolling/poll")).toBe(200);
  });

  it("keeps the connections Odoo's processes keep, each process within its db_maxconn", async () => {
    const init = await run(
      images.ODOO_SAAS_ODOO_IMAGE_17,
      ["odoo", "--database=pool_db", "-i", "base", "--stop-after-init"],
      { env: connection("pool_db") },
    );
    expect((await init.wait()).StatusCode).toBe(0);
    const odoo = await run(
      images.ODOO_SAAS_ODOO_IMAGE_17,
      [
        "odoo",
        "--database=pool_db",
        "--db-filter=^pool_db$",
        "--workers=2",
        "--max-cron-threads=1",
        "--db_maxconn=3",
      ],
      { env: connection("pool_db") },
    );
    const pools = async () =>
      JSON.parse(await execOutput(odoo, ["curl", "-s", "http://127.0.0.1:8069/stand-in/pools"]));
    const post = (url: string) =>
      execOutput(odoo, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", url]);
    await eventually(
      async () => (await curl(odoo, "http://127.0.0.1:8069/web/health")) === 200,
      30000,
      "health",
    );
    // Two write requests at once: each HTTP worker holds its request's cursor and, on commit, the
    // bus's cursor on `postgres`: two connections each, kept open afterwards.
    expect(
      await Promise.all([1, 2].map(() => post("http://127.0.0.1:8069/stand-in/work?ms=500"))),
    ).toEqual(["200", "200"]);
    // The cron worker polls with two cursors beside its LISTEN connection when notified.
    await pg
      .exec({
        Cmd: ["psql", "-U", "admin", "-d", "postgres", "-c", "NOTIFY cron_trigger, 'pool_db'"],
      })
      .then((e) => e.start({}));
    expect(await curl(odoo, "http://127.0.0.1:8072/websocket?ms=200")).toBe(200);
    await eventually(
      async () => (await pools()).pools.find((p: any) => p.process === "cron-0").peak === 3,
      10000,
      "cron poll",
    );
    const state = await pools();
    const byName = Object.fromEntries(state.pools.map((p: any) => [p.process, p]));
    expect(byName["http-0"]).toMatchObject({ max: 3, open: 2, peak: 2, refused: 0 });
    expect(byName["http-1"]).toMatchObject({ max: 3, open: 2, peak: 2, refused: 0 });
    expect(byName["cron-0"]).toMatchObject({ open: 3, peak: 3, refused: 0 });
    expect(byName.gevent).toMatchObject({ open: 2, peak: 2, refused: 0 }); // LISTEN imbus + one cursor
    // PostgreSQL sees exactly what the pools hold, named per process.
    const address = (await odoo.inspect()).NetworkSettings.Networks[NET].IPAddress;
    const seen = await execOutput(pg, [
      "psql",
      "-U",
      "admin",
      "-d",
      "postgres",
      "-At",
      "-c",
      `SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'odoo-stand-in-%' AND client_addr = '${address}'`,
    ]);
    expect(Number(seen.trim())).toBe(9);

    // A process needing more than db_maxconn fails like Odoo: PoolError, the request answers 500.
    const tight = await run(
      images.ODOO_SAAS_ODOO_IMAGE_17,
      ["odoo", "--database=pool_db", "--workers=1", "--max-cron-threads=0", "--db_maxconn=1"],
      { env: connection("pool_db") },
    );
    await eventually(
      async () => (await curl(tight, "http://127.0.0.1:8069/web/health")) === 200,
      30000,
      "tight health",
    );
    const tightPost = await execOutput(tight, [
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-X",
      "POST",
      "http://127.0.0.1:8069/stand-in/work",
    ]);
    expect(tightPost).toBe("500");
    expect(await logs(tight)).toMatch(/http-0: The Connection Pool Is Full/);
  });

  it("reads the password from PASSWORD_FILE, and fails like Odoo on an unknown option", async () => {
    fs.writeFileSync(path.join(secretDir, "password"), "pw");
    fs.chmodSync(secretDir, 0o755);
    const withFile = await run(
      images.ODOO_SAAS_ODOO_IMAGE_17,
      ["odoo", "--database=file_db", "-i", "base", "--stop-after-init"],
      {
        env: ["HOST=" + PG, "USER=admin", "PASSWORD_FILE=/run/secrets/password"],
        binds: [`${secretDir}:/run/secrets:ro`],
      },
    );
    expect((await withFile.wait()).StatusCode).toBe(0);
    const bad = await run(
      images.ODOO_SAAS_ODOO_IMAGE_17,
      ["odoo", "--database=x", "--no-such-option"],
      {
        env: connection("x"),
      },
    );
    expect((await bad.wait()).StatusCode).toBe(2);
    expect(await logs(bad)).toMatch(/unrecognized arguments: --no-such-option/);
  });
});
