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
  for (const c of made) await c.remove({ force: true }).catch(() => undefined);
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
