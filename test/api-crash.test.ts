// A worker killed mid-operation (SIGKILL of the worker process and its engine process): after a
// new worker starts, the tenant converges. Real PostgreSQL, Redis and engine; Kill Bill stand-in.
import { execFileSync, spawn } from "node:child_process";
import request from "supertest";
import { createLogger } from "../api/common/logger";
import { startRuntime, type Runtime } from "../api/runtime";
import { ADMIN_TOKEN, ApiHarness, eventually } from "./api-harness";
import { providerFreeTenantProgram } from "./provider-free-program";
import { PROVIDER_FREE } from "./stand-ins";

const h = new ApiHarness();
let replacement: Runtime | undefined;
beforeAll(() => h.start({ workers: false }), 60000);
afterAll(async () => {
  await replacement?.close();
  await h.stop();
}, 60000);

describe(`a worker crash ${PROVIDER_FREE}`, () => {
  it("a worker SIGKILLed mid-operation: the tenant converges once a new worker runs", async () => {
    const worker = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "test/helpers/api-process.ts"],
      {
        env: { ...process.env, ...h.env(), STAND_IN_DELAY_MS: "60000", API_HTTP: "false" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve, reject) => {
      worker.stdout.on("data", (d: Buffer) => d.toString().includes("READY") && resolve());
      worker.on("exit", (code) => reject(new Error(`worker exited (${code})`)));
    });

    const created = await request(h.runtime.url!)
      .post("/admin/tenants")
      .set("Authorization", `Bearer ${ADMIN_TOKEN}`)
      .send({
        tenantId: "crash-co",
        customerId: "c",
        plan: "basic",
        odooVersion: "17",
        adminEmail: "o@crash.example",
      });
    expect(created.status).toBe(202);

    // Wait until the worker's engine is running for this tenant, then kill both without warning.
    const engines = await eventually(
      async () => {
        try {
          return execFileSync("pgrep", ["-f", "pulumi up .*--stack crash-co "])
            .toString()
            .trim()
            .split(/\s+/)
            .map(Number);
        } catch {
          return undefined;
        }
      },
      60000,
      "the engine to start",
    );
    for (const pid of [worker.pid!, ...engines]) process.kill(pid, "SIGKILL");
    const running = await h.runtime.pool.query(
      "SELECT status FROM operations WHERE tenant_id = 'crash-co'",
    );
    expect(running.rows).toEqual([{ status: "running" }]);

    const lines: string[] = [];
    replacement = await startRuntime(h.config, {
      http: false,
      logger: createLogger("info", { write: (line: string) => lines.push(line) }),
      programFor: (spec) => providerFreeTenantProgram(spec),
    });
    await eventually(
      async () => {
        const t = (await h.runtime.pool.query("SELECT * FROM tenants WHERE id = 'crash-co'"))
          .rows[0];
        return t.observed_generation === t.desired_generation && t.observed_state === "active";
      },
      90000,
      "convergence after the crash",
    );
    const ops = (
      await h.runtime.pool.query(
        "SELECT status, error FROM operations WHERE tenant_id = 'crash-co' ORDER BY started_at",
      )
    ).rows;
    expect(ops).toEqual([
      {
        status: "abandoned",
        error:
          "interrupted: its process stopped or lost the database before recording how it ended",
      },
      { status: "succeeded", error: null },
    ]);
    // Said once, with the reason, so an operator can tell an abandoned run from a failed one.
    const said = lines.map((l) => JSON.parse(l)).filter((l) => /abandoned/.test(l.msg));
    expect(said).toEqual([
      expect.objectContaining({
        level: 40,
        tenantId: "crash-co",
        type: "up",
        reason:
          "interrupted: its process stopped or lost the database before recording how it ended",
      }),
    ]);
  });
});
