// The operator's own path: `pulumi preview / up / destroy` on the project's Pulumi.yaml with a
// stack config file, as the platform section of docs/platform.md shows it, on the real engine.
// The CLI finds a Node.js language host beside itself: Pulumi's own where the official
// distribution is installed, else the project's (providers/language-host/, put there by
// scripts/ensure-pulumi.sh).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readLocalImages } from "../../automation/local-platform";
import { eventually } from "../api-harness";
import { docker, sweep } from "./platform";

const ROOT = path.resolve(__dirname, "..", "..");
const STACK = "e2eo";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-operator-"));
const configFile = path.join(dir, `Pulumi.${STACK}.yaml`);
const env = {
  ...process.env,
  PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
  PULUMI_CONFIG_PASSPHRASE: "operator-test-passphrase",
  PULUMI_SKIP_UPDATE_CHECK: "true",
};

/** One CLI command in the project's directory: its exit code and output (its figures printed). */
function pulumi(...args: string[]): { status: number; out: string } {
  const started = Date.now();
  const r = spawnSync("pulumi", [...args, "--non-interactive"], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: 300_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  if (["preview", "up", "destroy"].includes(args[0])) {
    const summary = out.match(
      /^\s*[+~-]?\s*\d+ (to create|created|unchanged|to update|deleted)\b.*$/gm,
    );
    console.log(
      `[operator] pulumi ${args[0]} ${args.filter((a) => a.startsWith("-") && a !== "--config-file").join(" ")}: exit ${r.status} in ${Date.now() - started} ms; ${(summary ?? []).map((s) => s.trim()).join(", ")}`,
    );
  }
  return { status: r.status ?? -1, out };
}
const withConfig = (...args: string[]) => pulumi(...args, "--config-file", configFile);
const set = (...args: string[]) => {
  const r = withConfig("config", "set", ...args);
  if (r.status !== 0) throw new Error(r.out);
};

beforeAll(async () => {
  fs.mkdirSync(path.join(dir, "state"));
  await sweep(STACK);
  const images = readLocalImages();
  const init = pulumi("stack", "init", `organization/odoo-saas-platform/${STACK}`);
  if (init.status !== 0) throw new Error(init.out);
  // What an operator commits as Pulumi.<stack>.yaml (GitOps), the secret encrypted in it.
  set("baseDomain", "operator.test");
  set("namePrefix", STACK);
  set("--path", "traefik.image", images.ODOO_SAAS_TRAEFIK_IMAGE);
  set("--path", "traefik.httpPort", "18980");
  set("--path", "traefik.httpsPort", "19343");
  set("--path", "traefik.publishHostIp", "127.0.0.1");
  set("--path", "postgres.image", images.ODOO_SAAS_POSTGRES_IMAGE);
  set("--path", "postgres.publishPort", "16333");
  set("--path", "postgres.maxConnections", "300");
  set("--path", "redis.image", images.ODOO_SAAS_REDIS_IMAGE);
  set("--path", "limits.postgres.cpus", "1");
  set("--secret", "postgresAdminPassword", "operator-admin-password");
}, 120_000);

afterAll(async () => {
  withConfig("destroy", "--yes", "--skip-preview");
  await sweep(STACK);
  fs.rmSync(dir, { recursive: true, force: true });
  // `stack init` wrote the stack's encryption salt beside Pulumi.yaml: not part of the repository.
  fs.rmSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), { force: true });
}, 300_000);

describe("pulumi preview / up / destroy on Pulumi.yaml, as an operator runs them", () => {
  it("the config file holds the secret encrypted, never in clear", () => {
    const text = fs.readFileSync(configFile, "utf8");
    expect(text).toMatch(/postgresAdminPassword:\n\s+secure: v1:/);
    expect(text).not.toContain("operator-admin-password");
  });

  it("preview --diff shows what up will create", () => {
    const r = withConfig("preview", "--diff");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/\+ docker:index\/container:Container: \(create\)/);
    expect(r.out).toMatch(/\+ \d+ to create/);
    expect(r.out).not.toContain("operator-admin-password");
  }, 300_000);

  it("up creates the platform, and it serves", async () => {
    const r = withConfig("up", "--yes", "--skip-preview");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/\+ \d+ created/);
    await eventually(
      async () =>
        (await docker.getContainer(`${STACK}-postgres`).inspect()).State?.Health?.Status ===
        "healthy",
      120_000,
      "the shared PostgreSQL healthy",
    );
    const outputs = JSON.parse(pulumi("stack", "output", "--json").out);
    expect(outputs.tenantSettings.baseDomain).toBe("operator.test");
    expect(outputs.postgresAdminPassword).toBe("[secret]");
  }, 300_000);

  it("a preview of the unchanged stack changes nothing (--expect-no-changes exits 0)", () => {
    const r = withConfig("preview", "--expect-no-changes");
    expect([r.status, r.out]).toEqual([0, expect.stringMatching(/\d+ unchanged/)]);
  }, 300_000);

  it("a config change is previewed with the diff a reviewer reads (and --expect-no-changes fails)", () => {
    set("--path", "limits.redis.memoryMb", "768");
    const r = withConfig("preview", "--diff", "--expect-no-changes");
    expect(r.status).toBe(7); // the CLI's "changes where none were expected", not a failure (255)
    expect(r.out).toMatch(/~ memory\s*: 512 => 768/);
    expect(r.out).toMatch(/~ 1 to update/);
  }, 300_000);

  it("destroy removes the platform", async () => {
    const r = withConfig("destroy", "--yes", "--skip-preview");
    expect(r.status).toBe(0);
    const left = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`odoo-saas.platform=${STACK}`] }),
    });
    expect(left).toEqual([]);
  }, 300_000);
});
