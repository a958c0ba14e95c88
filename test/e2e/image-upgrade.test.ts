// A new build of a tenant's Odoo image, rolled out with `fleet up` on a real platform, through the
// API (backups, restores) and the real tenant program: the build's `-u all` runs once, before the
// runtime moves to it; a build whose update fails leaves the runtime on the previous build and the
// database restored from the backup taken just before. The Odoo stand-in records each `-u`.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../cli/cli";
import { tenantNames } from "../../components/tenant/names";
import { readLocalImages } from "../../automation/local-platform";
import { ADMIN_TOKEN, eventually } from "../api-harness";
import { apiOnPlatform, auth, hostOf } from "./api-on-platform";
import { docker, waitReachable } from "./platform";
import { ODOO_STAND_IN } from "../stand-ins";

const tenantId = "upgrade-co";
const e = apiOnPlatform("container", "e2eh", [tenantId]);
const base = readLocalImages().ODOO_SAAS_ODOO_IMAGE_17;
const builds = {
  good: "odoo-saas/odoo-stand-in:e2e-build-2",
  bad: "odoo-saas/odoo-stand-in:e2e-build-3",
};
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-upgrade-"));
afterAll(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
  for (const tag of Object.values(builds))
    try {
      execFileSync("/usr/bin/docker", ["rmi", "-f", tag], { stdio: "ignore" });
    } catch {
      // already gone
    }
});

/** A new build of the version's image: the same stand-in with its own build name (and flaw). */
function build(tag: string, env: Record<string, string>) {
  const dockerfile = `FROM ${base}\n${Object.entries(env)
    .map(([k, v]) => `ENV ${k}=${v}`)
    .join("\n")}\n`;
  execFileSync("/usr/bin/docker", ["build", "-q", "-t", tag, "-"], { input: dockerfile });
}

/** The rollout as an operator runs it: specs from the API's store, backups through the API. */
async function fleetUp(name: string) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(
    [
      "fleet",
      "up",
      "--json",
      "--no-health-check",
      "--state-file",
      path.join(stateDir, `${name}.json`),
    ],
    {
      env: {
        DATABASE_URL: e.h.config.DATABASE_URL,
        ODOO_SAAS_API_URL: e.h.runtime.url!,
        ADMIN_TOKEN,
      },
      settings: e.p.settings,
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
    },
  );
  const events = stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, events, stderr };
}

const runtimeImage = async () => {
  const [c] = await docker.listContainers({
    filters: JSON.stringify({
      label: [`odoo-saas.tenant=${tenantId}`],
      name: [`odoo-${tenantId}`],
    }),
  });
  return c?.Image;
};

async function tenantDb<T>(sql: string): Promise<T[]> {
  const client = await e.p.admin(tenantNames("upgrade-corp", tenantId).database);
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

const withImage = (image: string) =>
  e.p.reconfigure((c) => ({ ...c, odooImages: { ...c.odooImages, "17": image } }));

describe(`a new build of the Odoo image ${ODOO_STAND_IN}`, () => {
  it("a new build updates every module once before the runtime moves to it; a failing one is rolled back", async () => {
    const created = await e.api().post("/admin/tenants").set(auth).send({
      tenantId,
      customerId: "upgrade-corp",
      plan: "trial",
      odooVersion: "17",
      adminEmail: "owner@upgrade.example",
    });
    expect(created.status).toBe(202);
    await e.converged(tenantId, "active");
    await e.attach(tenantId, "before.txt");
    expect(await runtimeImage()).toBe(base);
    // A new tenant's database is initialised, not updated.
    expect(await tenantDb("SELECT to_regclass('stand_in_module_updates') AS t")).toEqual([
      { t: null },
    ]);

    build(builds.good, { STAND_IN_BUILD: "build-2" });
    build(builds.bad, { STAND_IN_BUILD: "build-3", STAND_IN_FAIL_UPDATE: "1" });

    await withImage(builds.good);
    const good = await fleetUp("good");
    expect(good.code).toBe(0);
    expect(good.events.filter((x) => x.event === "tenant-done").map((x) => x.tenantId)).toEqual([
      tenantId,
    ]);
    expect(await tenantDb("SELECT modules, build FROM stand_in_module_updates")).toEqual([
      { modules: "all", build: "build-2" },
    ]);
    expect(await runtimeImage()).toBe(builds.good);
    await waitReachable(e.p, hostOf(tenantId));
    const ops = (
      await e.h.runtime.pool.query(
        "SELECT type, status FROM operations WHERE tenant_id = $1 AND type = 'backup'",
        [tenantId],
      )
    ).rows;
    expect(ops).toEqual([{ type: "backup", status: "succeeded" }]);

    await withImage(builds.bad);
    const bad = await fleetUp("bad");
    expect(bad.code).toBe(1);
    const failed = bad.events.find((x) => x.event === "tenant-failed")!;
    expect(failed).toMatchObject({ tenantId, stage: "up" });
    expect(failed.error).toMatch(
      /-u all --stop-after-init exited with code 1.*backup \S+ restored$/,
    );
    expect(bad.events.some((x) => x.event === "tenant-restored")).toBe(true);
    // The runtime never moved to the failing build, and the half-migrated database was restored.
    expect(await runtimeImage()).toBe(builds.good);
    expect(await tenantDb("SELECT login FROM res_users WHERE login = 'half-migrated'")).toEqual([]);
    expect(await tenantDb("SELECT build FROM stand_in_module_updates")).toEqual([
      { build: "build-2" },
    ]);
    await waitReachable(e.p, hostOf(tenantId));
    expect(await e.attachments(tenantId)).toEqual(["before.txt"]);
    // The store vouches for no fingerprint: the API will not skip the tenant's next run.
    await eventually(async () => (await e.view(tenantId)).inputsFingerprint === null, 10_000);
  }, 900_000);
});
