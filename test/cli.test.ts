// The operator CLI over the real engine (provider-free stand-in program), and the fleet
// preview's Markdown from fixed results (snapshot).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { FleetResult } from "../automation/fleet";
import { fleetPreviewMarkdown } from "../automation/fleet-report";
import { StackRunner, type PreviewOutcome } from "../automation/stack-runner";
import { TENANT_PROJECT } from "../automation/tenant-stacks";
import { loadCatalog } from "../catalog";
import { planData } from "../catalog/plans";
import { runCli } from "../cli/cli";
import { providerFreeTenantProgram, type StandInSpec } from "./provider-free-program";
import { PROVIDER_FREE } from "./stand-ins";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-cli-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
fs.mkdirSync(path.join(root, "state"));
const settings = {
  dataDir: root,
  backendUrl: `file://${root}/state`,
  passphrase: "cli-test-passphrase",
  maxConcurrentRuns: 4,
  platformStack: "organization/odoo-saas-platform/test",
};

const spec = (tenantId: string, plan: string, extra: object = {}) => ({
  tenantId,
  customerId: "cust",
  plan,
  odooVersion: "17",
  adminEmail: `owner@${tenantId}.example`,
  ...extra,
});
const specsFile = path.join(root, "specs.json");
/** A rollout without the API (no backups) and without a router (no health check). */
const rolloutArgs = ["fleet", "up", "--no-backup", "--no-health-check"];
fs.writeFileSync(
  specsFile,
  JSON.stringify([spec("beta", "basic"), spec("alpha", "basic"), spec("gamma", "standard")]),
);

/** Test-only knobs per tenant read by the stand-in program (a failure). */
const knobs: Record<string, { failWith?: string; worldDir?: string }> = {};

/**
 * Runs the CLI in-process; `catalog` lets a test change a plan as a pull request would, `where`
 * another clone's settings (its own work directory).
 */
async function cli(args: string[], catalog = loadCatalog(), where = settings) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    env: {},
    settings: where,
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    programFor: (s) =>
      providerFreeTenantProgram({ ...(s as StandInSpec), ...knobs[s.tenantId] }, catalog),
    catalog,
  });
  return { code, stdout, stderr };
}

describe(`odoo-saas CLI on the real engine ${PROVIDER_FREE}`, () => {
  it("fleet up creates every tenant, canary first, showing progress and a summary", async () => {
    const r = await cli([...rolloutArgs, "--specs", specsFile, "--concurrency", "3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fleet up: 3 succeeded, 0 failed\n");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines.slice(0, 2)).toEqual([
      "rollout of 3 tenants, canary 1",
      "batch 1 (canary): alpha",
    ]);
    expect(lines).toContain("batch 2: beta, gamma");
    expect(r.stderr).toMatch(/^alpha: done \(\d+\.\ds\)$/m);
    // Nothing changed since: nothing to roll out.
    expect((await cli([...rolloutArgs, "--specs", specsFile])).stdout).toBe(
      "fleet up: 0 succeeded, 0 failed\n",
    );
    expect((await cli(["tenants", "list", "--json"])).stdout).toBe(
      JSON.stringify(["alpha", "beta", "gamma"], null, 2) + "\n",
    );
  });

  it("fleet up from another clone (a work directory of its own, the same state) keeps every password", async () => {
    const runner = new StackRunner(settings);
    const passwords = () =>
      Promise.all(
        ["alpha", "beta", "gamma"].map(
          async (stack) =>
            (await runner.secretOutputs({ project: TENANT_PROJECT, stack })).databasePassword,
        ),
      );
    const before = await passwords();
    expect(before).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-cli-clone-"));
    try {
      const r = await cli([...rolloutArgs, "--all", "--specs", specsFile], undefined, {
        ...settings,
        dataDir: clone,
      });
      expect([r.code, r.stdout]).toEqual([0, "fleet up: 3 succeeded, 0 failed\n"]);
    } finally {
      fs.rmSync(clone, { recursive: true, force: true });
    }
    expect(await passwords()).toEqual(before);
  });

  it("fleet preview of an unchanged fleet runs no preview (fingerprints) and collapses everything into a count", async () => {
    const r = await cli(["fleet", "preview", "--specs", specsFile, "--markdown"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "## Fleet preview: 0 of 3 tenants would change\n\n<details><summary>3 tenants unchanged (3 not previewed: inputs as applied, by fingerprint)</summary>\n\nalpha, beta, gamma\n\n</details>\n",
    );
    // --all previews them anyway, and the engine agrees that nothing would change.
    const all = await cli(["fleet", "preview", "--all", "--specs", specsFile, "--markdown"]);
    expect(all.stdout).toBe(
      "## Fleet preview: 0 of 3 tenants would change\n\n<details><summary>3 tenants unchanged</summary>\n\nalpha, beta, gamma\n\n</details>\n",
    );
  });

  it("a change to one plan's memory shows exactly that plan's tenants changing, and why, the same way twice", async () => {
    const data = JSON.parse(JSON.stringify(planData));
    data.find((p: { id: string }) => p.id === "basic").memoryMb = 3072;
    const changed = loadCatalog(data);
    const first = await cli(["fleet", "preview", "--specs", specsFile, "--markdown"], changed);
    const second = await cli(["fleet", "preview", "--specs", specsFile, "--markdown"], changed);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(first.stdout).toBe(
      [
        "## Fleet preview: 2 of 3 tenants would change",
        "",
        "| tenant | plan | create | update | replace | delete |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        "| alpha | basic | 0 | 1 | 0 | 0 |",
        "| beta | basic | 0 | 1 | 0 | 0 |",
        "",
        "### alpha (basic)",
        "",
        "- `~` update `pulumi-nodejs:dynamic:Resource` **alpha-record**: `memoryMb`",
        "",
        "### beta (basic)",
        "",
        "- `~` update `pulumi-nodejs:dynamic:Resource` **beta-record**: `memoryMb`",
        "",
        "<details><summary>1 tenant unchanged (1 not previewed: inputs as applied, by fingerprint)</summary>",
        "",
        "gamma",
        "",
        "</details>",
        "",
      ].join("\n"),
    );
    const changedOnly = await cli(
      ["fleet", "preview", "--specs", specsFile, "--changed-only"],
      changed,
    );
    expect(changedOnly.stdout).toBe("alpha: 1 to update\nbeta: 1 to update\n");
  });

  it("lists errors and exits 1 when a tenant's preview fails", async () => {
    const broken = path.join(root, "broken.json");
    fs.writeFileSync(
      broken,
      JSON.stringify([spec("alpha", "basic"), spec("delta", "basic", { plan: "gold" })]),
    );
    const r = await cli(["fleet", "preview", "--specs", broken, "--markdown"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("## Fleet preview: 0 of 2 tenants would change, 1 failed");
    expect(r.stdout).toContain("### Errors\n\n- **delta**: invalid tenant spec:");
  });

  it("tenants show / preview / suspend / destroy, with exit codes", async () => {
    const show = await cli(["tenants", "show", "alpha", "--json"]);
    expect(JSON.parse(show.stdout)).toMatchObject({ plan: "basic", databasePassword: "[secret]" });
    const preview = await cli(["tenants", "preview", "gamma", "--specs", specsFile, "--json"]);
    expect(JSON.parse(preview.stdout)).toEqual({ changes: [], counts: { same: 4 } });
    const suspend = await cli(["tenants", "suspend", "gamma", "--specs", specsFile]);
    expect(suspend).toMatchObject({ code: 0, stdout: "gamma: 3 same, 1 update\n" });
    expect(JSON.parse((await cli(["tenants", "show", "gamma", "--json"])).stdout).state).toBe(
      "suspended",
    );
    expect((await cli(["tenants", "destroy", "gamma"])).code).toBe(2); // no --yes
    expect(await cli(["tenants", "destroy", "gamma", "--yes"])).toMatchObject({
      code: 0,
      stdout: "gamma: destroyed (4 resources)\n",
    });
    expect((await cli(["tenants", "show", "gamma"])).code).toBe(1);
    expect((await cli(["tenants", "up", "nobody", "--specs", specsFile])).code).toBe(2);
    expect((await cli(["fleet", "up", "--concurrency", "0", "--specs", specsFile])).code).toBe(2);
    expect((await cli(["no-such-command"])).code).toBe(2);
    expect((await cli(["fleet", "preview"])).stderr).toBe(
      "error: no tenants to work on: give --specs <file.json> or set DATABASE_URL\n",
    );
  });

  it("catalog xml writes both documents", async () => {
    const out = path.join(root, "xml");
    const r = await cli(["catalog", "xml", "--out", out]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["killbill-catalog.xml", "killbill-overdue.xml"]);
  });
});

describe(`rolling fleet up on the real engine ${PROVIDER_FREE}`, () => {
  const fleetFile = path.join(root, "rollout-specs.json");
  const ids = ["roll-1", "roll-2", "roll-3", "roll-4", "roll-5", "roll-6"];
  fs.writeFileSync(
    fleetFile,
    JSON.stringify(ids.map((id, i) => spec(id, i < 4 ? "basic" : "standard"))),
  );
  const state = (name: string) => ["--state-file", path.join(root, `${name}.json`)];
  const fingerprints = async () =>
    Object.fromEntries(
      await Promise.all(
        ids.map(async (id) => [
          id,
          JSON.parse((await cli(["tenants", "show", id, "--json"])).stdout).inputsFingerprint,
        ]),
      ),
    );
  const events = (stdout: string) =>
    stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const bigger = () => {
    const data = JSON.parse(JSON.stringify(planData));
    data.find((p: { id: string }) => p.id === "basic").memoryMb = 4096;
    return loadCatalog(data);
  };

  beforeAll(async () => {
    const r = await cli([
      ...rolloutArgs,
      "--specs",
      fleetFile,
      "--canary",
      "0",
      "--batch-size",
      "6",
      ...state("setup"),
    ]);
    expect(r.code).toBe(0);
  }, 120_000);

  it("stops at the first canary failure and leaves every other tenant untouched", async () => {
    const before = await fingerprints();
    knobs["roll-1"] = { failWith: "the canary broke" };
    const r = await cli(
      [...rolloutArgs, "--json", "--specs", fleetFile, "--canary", "1", ...state("canary")],
      bigger(),
    );
    delete knobs["roll-1"];
    expect(r.code).toBe(1);
    const e = events(r.stdout);
    // The basic plan changed: its tenants, smallest plan first; r1 is the canary.
    expect(e[0]).toEqual({
      event: "rollout-started",
      tenants: 4,
      remaining: 4,
      canary: 1,
      resumed: false,
    });
    expect(e[1]).toEqual({ event: "batch-started", batch: 1, canary: true, tenants: ["roll-1"] });
    expect(e[2]).toMatchObject({ event: "tenant-failed", tenantId: "roll-1", stage: "up" });
    expect(e[2].error).toContain("the canary broke");
    expect(e[3]).toMatchObject({
      event: "rollout-stopped",
      reason: "a canary tenant failed",
      remaining: 3,
    });
    const after = await fingerprints();
    for (const id of ids.slice(1)) expect(after[id]).toBe(before[id]);
  });

  it("a tenant whose route does not answer fails its health check", async () => {
    const router = http.createServer((req, res) => {
      res.statusCode = req.headers.host === "roll-3.odoo.test" ? 503 : 200;
      res.end();
    });
    await new Promise<void>((r) => router.listen(0, "127.0.0.1", () => r()));
    const via = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;
    try {
      const r = await cli(
        [
          "fleet",
          "up",
          "--no-backup",
          "--json",
          "--specs",
          fleetFile,
          "--canary",
          "0",
          "--batch-size",
          "2",
          "--health-via",
          via,
          "--health-timeout",
          "3",
          ...state("health"),
        ],
        bigger(),
      );
      expect(r.code).toBe(1);
      const e = events(r.stdout);
      expect(
        e
          .filter((x) => x.event === "tenant-done")
          .map((x) => x.tenantId)
          .sort(),
      ).toEqual(["roll-1", "roll-2", "roll-4"]);
      expect(e.find((x) => x.event === "tenant-failed")).toMatchObject({
        tenantId: "roll-3",
        stage: "health",
        error:
          "https://roll-3.odoo.test/web/health did not answer through the edge within 3 s (last: answered 503)",
      });
      expect(e.at(-1)).toEqual({ event: "rollout-finished", succeeded: 3, failed: 1 });
    } finally {
      router.close();
    }
  });

  it("--resume continues where a killed rollout stopped, never applying a done tenant again", async () => {
    const file = path.join(root, "killed.json");
    const child = spawn(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        path.join(__dirname, "helpers", "cli-child.ts"),
        ...rolloutArgs,
        "--all",
        "--json",
        "--specs",
        fleetFile,
        "--canary",
        "1",
        "--batch-size",
        "2",
        "--concurrency",
        "1",
        "--state-file",
        file,
      ],
      {
        env: {
          ...process.env,
          CLI_CHILD_SETTINGS: JSON.stringify(settings),
          STAND_IN_DELAY_MS: "1500",
        },
      },
    );
    const done: string[] = [];
    await new Promise<void>((resolve, reject) => {
      child.on("exit", () => reject(new Error("the rollout ended before it was killed")));
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n").filter(Boolean)) {
          const e = JSON.parse(line);
          if (e.event === "tenant-done") done.push(e.tenantId);
          if (done.length === 3) {
            child.removeAllListeners("exit");
            child.kill("SIGKILL");
            child.on("exit", () => resolve());
          }
        }
      });
    });
    expect(done).toEqual(["roll-1", "roll-2", "roll-3"]);
    const r = await cli([
      ...rolloutArgs,
      "--resume",
      "--json",
      "--specs",
      fleetFile,
      "--state-file",
      file,
    ]);
    expect(r.code).toBe(0);
    const e = events(r.stdout);
    expect(e[0]).toEqual({
      event: "rollout-started",
      tenants: 6,
      remaining: 3,
      canary: 1,
      resumed: true,
    });
    expect(
      e
        .filter((x) => x.event === "tenant-done")
        .map((x) => x.tenantId)
        .sort(),
    ).toEqual(["roll-4", "roll-5", "roll-6"]);
    expect(e.at(-1)).toEqual({ event: "rollout-finished", succeeded: 6, failed: 0 });
  }, 180_000);
});

describe(`fleet drift on the real engine ${PROVIDER_FREE}`, () => {
  // The stand-in's records exist out of the engine too, as files: changed or deleted by hand here.
  const world = path.join(root, "world");
  const fleetFile = path.join(root, "drift-specs.json");
  const ids = ["drift-1", "drift-2", "drift-3"];
  fs.writeFileSync(fleetFile, JSON.stringify(ids.map((id) => spec(id, "basic"))));
  const record = (id: string) => path.join(world, `${id}.json`);

  beforeAll(async () => {
    for (const id of ids) knobs[id] = { worldDir: world };
    const r = await cli([
      ...rolloutArgs,
      "--specs",
      fleetFile,
      "--canary",
      "0",
      "--state-file",
      path.join(root, "drift-rollout.json"),
    ]);
    expect(r.code).toBe(0);
  }, 120_000);

  it("reports resources changed or deleted out of band, changes nothing, and --fix brings them back", async () => {
    const clean = await cli(["fleet", "drift", "--specs", fleetFile]);
    expect(clean).toMatchObject({
      code: 0,
      stdout: "drift-1: no drift\ndrift-2: no drift\ndrift-3: no drift\n",
    });

    const changed = JSON.parse(fs.readFileSync(record("drift-1"), "utf8"));
    fs.writeFileSync(record("drift-1"), JSON.stringify({ ...changed, memoryMb: 512, cpus: 8 }));
    fs.rmSync(record("drift-3"));
    const report = await cli(["fleet", "drift", "--specs", fleetFile, "--markdown"]);
    expect(report.code).toBe(1);
    expect(report.stdout).toBe(
      [
        "## Drift: 2 of 3 tenants changed out of band",
        "",
        "### drift-1 (basic)",
        "",
        "- `~` changed `pulumi-nodejs:dynamic:Resource` **drift-1-record**: `cpus`, `memoryMb`",
        "",
        "### drift-3 (basic)",
        "",
        "- `-` deleted `pulumi-nodejs:dynamic:Resource` **drift-3-record**",
        "",
      ].join("\n"),
    );
    // Reporting changed nothing: the drift is still there, the record still as it was changed.
    expect(JSON.parse(fs.readFileSync(record("drift-1"), "utf8")).memoryMb).toBe(512);
    expect(fs.existsSync(record("drift-3"))).toBe(false);

    const fix = await cli(["fleet", "drift", "--specs", fleetFile, "--fix", "--json"]);
    expect(fix.code).toBe(0);
    expect(
      JSON.parse(fix.stdout).map((r: { tenantId: string; fixed: boolean }) => [
        r.tenantId,
        r.fixed,
      ]),
    ).toEqual([
      ["drift-1", true],
      ["drift-2", false],
      ["drift-3", true],
    ]);
    expect(JSON.parse(fs.readFileSync(record("drift-1"), "utf8")).memoryMb).toBe(changed.memoryMb);
    expect(fs.existsSync(record("drift-3"))).toBe(true);
    expect((await cli(["fleet", "drift", "--specs", fleetFile])).code).toBe(0);
  }, 120_000);
});

describe("fleet preview Markdown", () => {
  const change = (tenant: string, name: string, op: string, type: string, props: string[]) => ({
    urn: `urn:pulumi:${tenant}::odoo-saas-tenant::${type}::${name}`,
    type,
    name,
    op: op as never,
    changedProperties: props,
  });
  const ok = (
    tenantId: string,
    plan: string,
    changes: ReturnType<typeof change>[],
  ): FleetResult<PreviewOutcome> => ({
    tenantId,
    plan,
    ok: true,
    value: { changes, counts: {}, text: "" },
    seconds: 1,
  });
  const results: FleetResult<PreviewOutcome>[] = [
    ok("zeta", "premium", []),
    ok("acme", "standard", [
      change("acme", "acme-odoo", "update", "docker:index/container:Container", ["cpus", "memory"]),
      change("acme", "acme-database", "replace", "postgresql:index/database:Database", ["name"]),
      change("acme", "acme-database", "create-replacement", "postgresql:index/database:Database", [
        "name",
      ]),
      change("acme", "acme-database", "delete-replaced", "postgresql:index/database:Database", [
        "name",
      ]),
    ]),
    {
      tenantId: "broken",
      plan: "basic",
      ok: false,
      error: "engine run failed: error: boom\nmore",
      seconds: 1,
    },
    ok("newco", "trial", [
      change("newco", "newco-filestore", "create", "docker:index/volume:Volume", []),
      change("newco", "old-thing", "delete", "docker:index/container:Container", []),
    ]),
    ok("mid", "basic", []),
  ];

  it("renders the report (snapshot)", () => {
    expect(fleetPreviewMarkdown(results)).toMatchSnapshot();
  });

  it("--changed-only leaves unchanged tenants out", () => {
    expect(fleetPreviewMarkdown(results, { changedOnly: true })).toMatchSnapshot();
  });

  it("is deterministic whatever order the previews finished in", () => {
    expect(fleetPreviewMarkdown([...results].reverse())).toBe(fleetPreviewMarkdown(results));
  });
});
