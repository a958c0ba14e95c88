// The operator CLI over the real engine (provider-free stand-in program), and the fleet
// preview's Markdown from fixed results (snapshot).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FleetResult } from "../automation/fleet";
import { fleetPreviewMarkdown } from "../automation/fleet-report";
import type { PreviewOutcome } from "../automation/stack-runner";
import { loadCatalog } from "../catalog";
import { planData } from "../catalog/plans";
import { runCli } from "../cli/cli";
import { providerFreeTenantProgram, type StandInSpec } from "./provider-free-program";

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
fs.writeFileSync(
  specsFile,
  JSON.stringify([spec("beta", "basic"), spec("alpha", "basic"), spec("gamma", "standard")]),
);

/** Runs the CLI in-process; `catalog` lets a test change a plan as a pull request would. */
async function cli(args: string[], catalog = loadCatalog()) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    env: {},
    settings,
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    programFor: (s) => providerFreeTenantProgram(s as StandInSpec, catalog),
  });
  return { code, stdout, stderr };
}

describe("odoo-saas CLI on the real engine", () => {
  it("fleet up creates every tenant, showing progress and a summary", async () => {
    const r = await cli(["fleet", "up", "--specs", specsFile, "--concurrency", "3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fleet up: 3 succeeded, 0 failed\n");
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(3);
    expect(r.stderr).toMatch(/^\[1\/3\] \w+: done \(\d+\.\ds\)$/m);
    expect((await cli(["tenants", "list", "--json"])).stdout).toBe(
      JSON.stringify(["alpha", "beta", "gamma"], null, 2) + "\n",
    );
  });

  it("fleet preview of an unchanged fleet collapses everything into a count", async () => {
    const r = await cli(["fleet", "preview", "--specs", specsFile, "--markdown"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
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
        "<details><summary>1 tenant unchanged</summary>",
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
    expect(JSON.parse(preview.stdout)).toEqual({ changes: [], counts: { same: 3 } });
    const suspend = await cli(["tenants", "suspend", "gamma", "--specs", specsFile]);
    expect(suspend).toMatchObject({ code: 0, stdout: "gamma: 2 same, 1 update\n" });
    expect(JSON.parse((await cli(["tenants", "show", "gamma", "--json"])).stdout).state).toBe(
      "suspended",
    );
    expect((await cli(["tenants", "destroy", "gamma"])).code).toBe(2); // no --yes
    expect(await cli(["tenants", "destroy", "gamma", "--yes"])).toMatchObject({
      code: 0,
      stdout: "gamma: destroyed (3 resources)\n",
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
