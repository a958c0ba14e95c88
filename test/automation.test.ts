// The automation layer against the real Pulumi engine (no mocks): provider-free tenant programs
// (test/provider-free-program.ts) on file:// and postgres:// backends.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import {
  EngineError,
  RunCancelledError,
  RunTimedOutError,
  StackLockedError,
  StackNotFoundError,
  StackRunner,
  TENANT_PROJECT,
  TenantStacks,
  type ProgressEvent,
} from "../automation";
import type { AutomationSettings } from "../automation/settings";
import { locksAreStale } from "../automation/stale-lock";
import { InvalidTenantSpecError } from "../stacks/tenant/tenant-spec";
import { providerFreeTenantProgram, type StandInSpec } from "./provider-free-program";
import { PROVIDER_FREE } from "./stand-ins";

const PASSPHRASE = "automation-test-passphrase";
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-automation-"));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function settings(name: string, overrides: Partial<AutomationSettings> = {}): AutomationSettings {
  const dataDir = path.join(tmpRoot, name);
  fs.mkdirSync(path.join(dataDir, "state"), { recursive: true });
  return {
    dataDir,
    backendUrl: `file://${path.join(dataDir, "state")}`,
    passphrase: PASSPHRASE,
    maxConcurrentRuns: 4,
    platformStack: "organization/odoo-saas-platform/test",
    ...overrides,
  };
}

/** Specs carry test-only knobs (delay, failure) that the stand-in program reads. */
type Knobs = Pick<StandInSpec, "delayMs" | "failWith" | "failDeleteWith" | "worldDir">;
function tenants(s: AutomationSettings) {
  const runner = new StackRunner(s);
  let knobs: Record<string, Knobs> = {};
  const stacks = new TenantStacks(runner, (spec) =>
    providerFreeTenantProgram({ ...spec, ...knobs[spec.tenantId] } as StandInSpec),
  );
  return {
    runner,
    stacks,
    setKnobs: (tenantId: string, k: Knobs) => (knobs = { ...knobs, [tenantId]: k }),
  };
}

const spec = (tenantId: string, patch: object = {}) => ({
  tenantId,
  customerId: "cust",
  plan: "basic",
  odooVersion: "17",
  adminEmail: "owner@example.com",
  ...patch,
});

/** A CLI root whose `pulumi` logs its arguments to `log`, then runs the real one. */
function countingPulumi(log: string): string {
  const real = execFileSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" }).trim();
  const root = path.join(tmpRoot, "counting-pulumi");
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  const script = `#!/bin/sh\n[ "$1" = version ] || echo "$*" >> '${log}'\nexec '${real}' "$@"\n`;
  fs.writeFileSync(path.join(root, "bin", "pulumi"), script, { mode: 0o755 });
  return root;
}

/** The tenant's generated password, as its state holds it. */
async function storedPassword(runner: StackRunner, tenantId: string): Promise<unknown> {
  return (await runner.secretOutputs({ project: TENANT_PROJECT, stack: tenantId }))
    .databasePassword;
}

/** The settings file of the tenant's stack in this runner's work directory. */
const settingsFile = (runner: StackRunner, tenantId: string) =>
  fs.readFileSync(
    path.join(
      runner.workDir({ project: TENANT_PROJECT, stack: tenantId }),
      `Pulumi.${tenantId}.yaml`,
    ),
    "utf8",
  );

describe(`tenant stacks on the real engine (file:// backend) ${PROVIDER_FREE}`, () => {
  const { runner, stacks, setKnobs } = tenants(settings("file"));

  it("up -> outputs -> no-change preview -> plan change preview -> destroy -> gone", async () => {
    const events: ProgressEvent[] = [];
    const up = await stacks.up(spec("lifecycle"), { onProgress: (e) => events.push(e) });
    expect(up.changes).toEqual({ create: 4 });
    expect(up.outputs).toEqual({
      url: "https://lifecycle.odoo.test",
      hosts: ["lifecycle.odoo.test"],
      plan: "basic",
      state: "active",
      databasePassword: "[secret]",
      inputsFingerprint: await stacks.fingerprint(spec("lifecycle")),
    });
    expect(
      events
        .filter((e) => e.kind === "resource-finished")
        .map((e) => (e as any).name)
        .sort(),
    ).toEqual([
      "default",
      "lifecycle",
      "lifecycle-database-password",
      "lifecycle-record",
      "odoo-saas-tenant-lifecycle",
    ]);
    expect(events.at(-1)).toMatchObject({ kind: "summary", changes: { create: 4 } });
    expect(await stacks.outputs("lifecycle")).toEqual(up.outputs);

    expect((await stacks.preview(spec("lifecycle"))).changes).toEqual([]);
    const preview = await stacks.preview(spec("lifecycle", { plan: "standard" }));
    expect(preview.changes).toEqual([
      {
        urn: "urn:pulumi:lifecycle::odoo-saas-tenant::test:stand-in:Tenant$pulumi-nodejs:dynamic:Resource::lifecycle-record",
        type: "pulumi-nodejs:dynamic:Resource",
        name: "lifecycle-record",
        op: "update",
        changedProperties: ["cpus", "memoryMb", "plan", "workers"],
      },
    ]);
    expect(preview.counts).toEqual({ same: 3, update: 1 });
    expect(preview.text).toMatch(/~ plan +: "basic" => "standard"/);

    // The generated password survives: a second up declares the same one (no change); it is in
    // the state alone, not in the work directory.
    const password = await storedPassword(runner, "lifecycle");
    expect(password).toHaveLength(32);
    expect((await stacks.up(spec("lifecycle"))).changes).toEqual({ same: 4 });
    expect(await storedPassword(runner, "lifecycle")).toBe(password);
    expect(settingsFile(runner, "lifecycle")).not.toMatch(/tenant:/);

    expect(await stacks.list()).toContain("lifecycle");
    expect(await stacks.destroy("lifecycle")).toEqual({ delete: 4 });
    expect(await stacks.list()).not.toContain("lifecycle");
    expect(fs.existsSync(runner.workDir({ project: TENANT_PROJECT, stack: "lifecycle" }))).toBe(
      false,
    );
  });

  it("a destroy finishes what a failed delete left: the next pass refreshes and goes on", async () => {
    const world = path.join(tmpRoot, "destroy-world");
    // Fails every time it runs: a second delete of the record would fail the destroy.
    setKnobs("half-gone", { worldDir: world, failDeleteWith: "removed, then timed out" });
    await stacks.up(spec("half-gone"));
    expect(fs.existsSync(path.join(world, "half-gone.json"))).toBe(true);
    expect(await stacks.destroy("half-gone")).toMatchObject({ delete: 3 });
    expect(fs.existsSync(path.join(world, "half-gone.json"))).toBe(false);
    expect(await stacks.list()).not.toContain("half-gone");
  });

  it("another control plane, with work directories of its own, runs the stack with the same password", async () => {
    await stacks.up(spec("roaming"));
    const password = await storedPassword(runner, "roaming");
    // Another host: the same state backend and passphrase, an empty data directory.
    const elsewhere = tenants({ ...settings("file"), dataDir: path.join(tmpRoot, "elsewhere") });
    expect((await elsewhere.stacks.up(spec("roaming"))).changes).toEqual({ same: 4 });
    expect(await storedPassword(elsewhere.runner, "roaming")).toBe(password);
    expect((await elsewhere.stacks.preview(spec("roaming", { plan: "standard" }))).counts).toEqual({
      same: 3,
      update: 1,
    });
    await elsewhere.stacks.destroy("roaming");
  });

  it("a stack from before adopts the password its config kept, then that copy goes", async () => {
    const legacy = "a-password-from-before-0123456789";
    const stack = await runner.stack({ project: TENANT_PROJECT, stack: "legacy" }, async () => {});
    await stack.setConfig("tenant:databasePassword", { value: legacy, secret: true });
    await stacks.up(spec("legacy"));
    expect(await storedPassword(runner, "legacy")).toBe(legacy);
    expect(settingsFile(runner, "legacy")).not.toMatch(/tenant:databasePassword/);
    expect((await stacks.up(spec("legacy"))).changes).toEqual({ same: 4 });
    expect(await storedPassword(runner, "legacy")).toBe(legacy);
    await stacks.destroy("legacy");
  });

  it("runs the CLI only for the tenant's work: no select, history or second output read", async () => {
    const log = path.join(tmpRoot, "cli-runs.log");
    const counted = tenants(settings("counted", { pulumiRoot: countingPulumi(log) })).stacks;
    const runs = async (work: () => Promise<unknown>) => {
      fs.writeFileSync(log, "");
      await work();
      // The platform stack's outputs (none here) are read once in a while for fingerprints.
      const lines = fs.readFileSync(log, "utf8").trim().split("\n");
      return lines.filter((line) => !line.includes("--stack test"));
    };
    const placed = spec("counted", { databases: { serving: "shared", kept: [] } });
    // The read finds no stack: it is created without asking again.
    expect(await runs(() => counted.up(placed))).toEqual([
      "stack output --json --show-secrets --stack counted",
      expect.stringMatching(/^stack init counted/),
      expect.stringMatching(/^up /),
    ]);
    // The next run reads the passwords the first one made, for redaction, once a process. The
    // API's specs say where the databases are: nothing else is read.
    expect(await runs(() => counted.up(placed))).toEqual([
      "stack output --json --show-secrets --stack counted",
      expect.stringMatching(/^up /),
    ]);
    expect(await runs(() => counted.up(placed))).toEqual([expect.stringMatching(/^up /)]);
    expect(await runs(() => counted.preview(placed))).toEqual([expect.stringMatching(/^preview /)]);
    // An operator's spec file does not: the stack's placement is read (one run).
    expect(await runs(() => counted.up(spec("counted")))).toEqual([
      "stack output --json --show-secrets --stack counted",
      expect.stringMatching(/^up /),
    ]);
    expect(await runs(() => counted.outputs("counted"))).toEqual([
      "stack output --json --stack counted",
    ]);
    expect(await runs(() => counted.destroy("counted"))).toEqual([
      expect.stringMatching(/^destroy /),
      expect.stringMatching(/^stack rm /),
    ]);
  });

  it("creates a stack that appeared after it was found missing by selecting it", async () => {
    const other = tenants(settings("file")).stacks;
    await other.up(spec("appeared"));
    // This process's read found no stack; another created it before this run's `stack init`.
    const fresh = new StackRunner(settings("file"));
    const outcome = await fresh.up({
      project: TENANT_PROJECT,
      stack: "appeared",
      knownMissing: true,
      program: providerFreeTenantProgram(spec("appeared") as StandInSpec),
    });
    expect(outcome.changes).not.toHaveProperty("create");
    await other.destroy("appeared");
  });

  it("rejects an invalid spec before any stack exists", async () => {
    await expect(stacks.up(spec("admin"))).rejects.toThrow(InvalidTenantSpecError);
    await expect(stacks.up(spec("valid-id", { plan: "gold" }))).rejects.toThrow(
      'unknown plan "gold"',
    );
    expect(await stacks.list()).not.toContain("valid-id");
  });

  it("maps a missing stack to StackNotFoundError", async () => {
    await expect(stacks.outputs("never-created")).rejects.toThrow(StackNotFoundError);
  });

  it("runs 4 different stacks at once", async () => {
    const ids = ["par-a", "par-b", "par-c", "par-d"];
    const results = await Promise.all(ids.map((id) => stacks.up(spec(id))));
    expect(results.map((r) => r.changes)).toEqual(ids.map(() => ({ create: 4 })));
    expect(await stacks.list()).toEqual(expect.arrayContaining(ids));
  });

  it("serializes two ups of one stack in-process: the second starts after the first ends", async () => {
    await stacks.up(spec("serial"));
    setKnobs("serial", { delayMs: 1500 });
    const spans: { start: number; end: number }[] = [];
    const timed = async (plan: string) => {
      let start = 0;
      await stacks.up(spec("serial", { plan }), {
        onProgress: (e) => {
          if (!start && e.kind === "resource-started") start = Date.now();
        },
      });
      spans.push({ start, end: Date.now() });
    };
    await Promise.all([timed("standard"), timed("premium")]);
    spans.sort((a, b) => a.start - b.start);
    expect(spans[1].start).toBeGreaterThanOrEqual(spans[0].end);
    setKnobs("serial", {});
    expect((await stacks.outputs("serial")).plan).toBe("premium");
  });

  it("a second process meets the engine's lock (StackLockedError) and state stays intact", async () => {
    await stacks.up(spec("contended"));
    // Long enough that the second process's CLI starts (seconds each on a loaded machine) end
    // while the first run still holds the lock.
    setKnobs("contended", { delayMs: 8000 });
    const other = tenants(runner.settings); // a second runner: its own limiter, like another process
    let running: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    // The engine reports resources once the update holds the stack's lock.
    const first = stacks.up(spec("contended", { plan: "standard" }), {
      onProgress: () => running(),
    });
    await started;
    await expect(other.stacks.up(spec("contended", { plan: "premium" }))).rejects.toThrow(
      StackLockedError,
    );
    await first;
    setKnobs("contended", {});
    expect((await stacks.preview(spec("contended", { plan: "standard" }))).changes).toEqual([]);
  });

  it("recovers from the lock left when a worker and its engine process are SIGKILLed mid-run", async () => {
    await stacks.up(spec("killed"));
    const worker = spawn(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "test/helpers/slow-up.ts",
        runner.settings.dataDir,
        runner.settings.backendUrl,
        "killed",
      ],
      {
        env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve, reject) => {
      worker.stdout.on("data", (d: Buffer) => d.toString().includes("STARTED") && resolve());
      worker.on("exit", (code) => reject(new Error(`worker exited early (${code})`)));
    });
    const engines = execFileSync("pgrep", ["-f", "pulumi up .*--stack killed "])
      .toString()
      .trim()
      .split(/\s+/);
    for (const pid of [...engines.map(Number), worker.pid!]) process.kill(pid, "SIGKILL");
    const lockDir = path.join(
      runner.settings.dataDir,
      "state",
      ".pulumi",
      "locks",
      "organization",
      TENANT_PROJECT,
      "killed",
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.readdirSync(lockDir).filter((f) => f.endsWith(".json"))).toHaveLength(1); // left behind

    expect((await stacks.up(spec("killed", { plan: "premium" }))).outputs.plan).toBe("premium");
    expect(fs.readdirSync(lockDir).filter((f) => f.endsWith(".json"))).toHaveLength(0);
  });

  it("never clears a lock whose holder is alive", async () => {
    const holders = [{ user: "root", host: os.hostname(), pid: process.pid, at: "now" }];
    expect(locksAreStale(holders)).toBe(false);
    expect(locksAreStale([{ ...holders[0], host: "another-host", pid: 999999 }])).toBe(false);
    expect(locksAreStale([{ ...holders[0], pid: 999999 }], os.hostname(), () => false)).toBe(true);
  });

  it.each([
    ["grpc-unavailable", "absorbed 14 UNAVAILABLE: read ECONNRESET\nstill alive\n", 0],
    ["other", "", 1],
  ])("the orphaned-RPC guard absorbs only engine RPC failures (%s)", (kind, stdout, status) => {
    const result = spawnSync(process.execPath, [
      "-r",
      "ts-node/register/transpile-only",
      "test/helpers/orphaned-rejection.ts",
      kind,
    ]);
    expect(result.stdout.toString()).toBe(stdout);
    expect(result.status).toBe(status);
  });

  it("cancels a run on abort, leaving the stack usable", async () => {
    await stacks.up(spec("cancel"));
    setKnobs("cancel", { delayMs: 10000 });
    const controller = new AbortController();
    const run = stacks.up(spec("cancel", { plan: "standard" }), {
      signal: controller.signal,
      onProgress: (e) => e.kind === "resource-started" && controller.abort(),
    });
    await expect(run).rejects.toThrow(RunCancelledError);
    setKnobs("cancel", {});
    expect((await stacks.up(spec("cancel", { plan: "standard" }))).outputs.plan).toBe("standard");
  });

  // 300 ms: the timeout comes while the CLI is still starting, where the Automation API's one
  // interrupt is lost (the run then went on to its end); 2.5 s: during the run.
  it.each([300, 2500])("times out a run (after %i ms), leaving the stack usable", async (ms) => {
    const id = `slow-${ms}`;
    await stacks.up(spec(id));
    setKnobs(id, { delayMs: 15000 });
    const started = Date.now();
    await expect(stacks.up(spec(id, { plan: "standard" }), { timeoutMs: ms })).rejects.toThrow(
      RunTimedOutError,
    );
    expect(Date.now() - started).toBeLessThan(15000); // cancelled, not waited out
    setKnobs(id, {});
    expect((await stacks.up(spec(id, { plan: "standard" }))).outputs.plan).toBe("standard");
  });

  it("keeps secrets out of errors, log tails and progress events", async () => {
    await stacks.up(spec("leaky"));
    const password = await storedPassword(runner, "leaky");
    setKnobs("leaky", {
      failWith: `cannot connect with password ${password} (passphrase ${PASSPHRASE})`,
    });
    const events: ProgressEvent[] = [];
    const error = await stacks
      .up(spec("leaky", { plan: "standard" }), { onProgress: (e) => events.push(e) })
      .catch((e) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.logTail).toContain("cannot connect with password [secret]");
    const everything = `${error.message}\n${error.logTail}\n${JSON.stringify(events)}`;
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(PASSPHRASE);
    expect(events.some((e) => e.kind === "resource-finished" && e.failed)).toBe(true);
  });
});

describe(`tenant stacks on the postgres:// backend ${PROVIDER_FREE}`, () => {
  const admin = {
    host: "127.0.0.1",
    port: 5432,
    user: "odoo_saas",
    password: "odoo_saas",
    database: "odoo_saas",
  };
  const database = `pulumi_state_${process.pid}`;

  beforeAll(async () => {
    const c = new Client(admin);
    await c.connect();
    await c.query(`CREATE DATABASE ${database}`);
    await c.end();
  });
  afterAll(async () => {
    const c = new Client(admin);
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await c.end();
  });

  it("up, preview and destroy with state in PostgreSQL", async () => {
    const url = `postgres://${admin.user}:${admin.password}@127.0.0.1:5432/${database}?sslmode=disable`;
    const { stacks } = tenants(settings("postgres", { backendUrl: url }));
    expect((await stacks.up(spec("pg-tenant"))).changes).toEqual({ create: 4 });
    expect((await stacks.preview(spec("pg-tenant"))).changes).toEqual([]);
    const c = new Client({ ...admin, database });
    await c.connect();
    const rows = (await c.query("SELECT key FROM pulumi_state WHERE key LIKE '%pg-tenant%'")).rows;
    await c.end();
    expect(rows.length).toBeGreaterThan(0);
    expect(await stacks.destroy("pg-tenant")).toEqual({ delete: 4 });
    expect(await stacks.list()).toEqual([]);
  });
});
