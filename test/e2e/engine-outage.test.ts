// The Docker engine goes away in the middle of a tenant's `up` (the API's engine socket disappears
// and every connection to it drops, as when dockerd stops; test/helpers/engine-socket.ts) and comes
// back 20 s later: the operation fails with an error that names the engine, the reconcile is
// retried with growing delays, and the tenant converges once the engine answers again.
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { eventually } from "../api-harness";
import { EngineSocket } from "../helpers/engine-socket";
import { apiOnPlatform, auth } from "./api-on-platform";
import { ODOO_STAND_IN } from "../stand-ins";

const engine = new EngineSocket(path.join(os.tmpdir(), `odoo-saas-engine-${process.pid}.sock`));
// Everything this suite's API and engine runs do with Docker goes through that socket.
process.env.DOCKER_HOST = engine.dockerHost;
beforeAll(() => engine.start());

const tenantId = "engine-gone";
const moving = "engine-move";
// The retries' timing is under test: a job lock that lapses on a loaded machine (the harness's is
// 4 s, for crash tests) would have BullMQ take the job again at once, outside its backoff.
const e = apiOnPlatform("container", "e2eg", [tenantId, moving], {
  env: { JOB_LOCK_MS: "60000" },
});

// Containers of the tenant that are not running: a run cut off from the engine must not leave
// any behind (they would hold the tenant's volumes, and its destroy would wait for them in vain).
const leftBehind = (id: string) =>
  execFileSync("/usr/bin/docker", [
    "ps",
    "-a",
    "--filter",
    `label=odoo-saas.tenant=${id}`,
    "--filter",
    "status=exited",
    "--filter",
    "status=created",
    "--format",
    "{{.Names}}",
  ])
    .toString()
    .split("\n")
    .filter(Boolean);

const operations = async () =>
  (
    await e.h.runtime.pool.query(
      "SELECT status, error, started_at, finished_at FROM operations WHERE tenant_id = $1 ORDER BY started_at",
      [tenantId],
    )
  ).rows as { status: string; error: string | null; started_at: Date; finished_at: Date }[];

describe(`the Docker engine going away ${ODOO_STAND_IN}`, () => {
  it("the engine stopped during an up: a failed operation naming the engine, retried with backoff, converged after", async () => {
    const created = await e.api().post("/admin/tenants").set(auth).send({
      tenantId,
      customerId: "engine-gone-corp",
      plan: "trial",
      odooVersion: "17",
      adminEmail: "owner@engine-gone.example",
    });
    expect(created.status).toBe(202);
    // The engine run is under way (its CLI process runs this stack's update): take the engine away.
    await eventually(
      async () => {
        try {
          return execFileSync("pgrep", ["-f", `pulumi up .*--stack ${tenantId} `]).length > 0;
        } catch {
          return false;
        }
      },
      120000,
      "the engine run to start",
    );
    await new Promise((r) => setTimeout(r, 1500));
    await engine.stop();
    const wentAway = Date.now();
    try {
      const failed = await eventually(
        async () => {
          const ops = await operations();
          return ops.filter((o) => o.status === "failed").length >= 2 && ops;
        },
        120000,
        "two failed attempts",
      );
      const said = new RegExp(`the Docker engine at ${engine.dockerHost} cannot be reached`);
      for (const op of failed.filter((o) => o.status === "failed")) expect(op.error).toMatch(said);
      const view = (await e.api().get(`/admin/tenants/${tenantId}`).set(auth)).body;
      expect(view.lastError).toMatch(said);
      await new Promise((r) => setTimeout(r, Math.max(0, 20000 - (Date.now() - wentAway))));
    } finally {
      await engine.start(); // the platform's teardown needs it too
    }
    await e.converged(tenantId, "active");

    const ops = await operations();
    expect(ops.at(-1)!.status).toBe("succeeded");
    expect(leftBehind(tenantId)).toEqual([]);
    // The wait between a failed attempt's end and the next attempt's start grows each time
    // (BullMQ's exponential backoff from 5 s); attempts' own lengths vary, so they are left out.
    const waits = ops.slice(1).map((o, i) => o.started_at.getTime() - ops[i].finished_at.getTime());
    expect(waits[0]).toBeGreaterThanOrEqual(4000);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1]);
  }, 420000);

  it("the engine stops in the middle of a move to a dedicated database: nothing is lost, the move resumes", async () => {
    await e
      .api()
      .post("/admin/tenants")
      .set(auth)
      .send({
        tenantId: moving,
        customerId: "engine-move-corp",
        plan: "standard",
        odooVersion: "17",
      })
      .expect(202);
    await e.converged(moving, "active");
    await e.attach(moving, "before-the-move.txt", "written before");
    await e
      .api()
      .post(`/admin/tenants/${moving}/plan`)
      .set(auth)
      .send({ plan: "premium" })
      .expect(202);
    // The data is copied and the switch to the new server is under way: the engine goes.
    await eventually(
      async () =>
        (
          await e.h.runtime.pool.query(
            "SELECT database_move->>'phase' AS phase FROM tenants WHERE id = $1",
            [moving],
          )
        ).rows[0]?.phase === "copied",
      300_000,
      "the copy to finish",
    );
    await engine.stop();
    try {
      const failed = await eventually(
        async () =>
          (
            await e.h.runtime.pool.query(
              "SELECT error FROM operations WHERE tenant_id = $1 AND status = 'failed'",
              [moving],
            )
          ).rows[0]?.error as string | undefined,
        120_000,
        "the move to fail",
      );
      expect(failed).toMatch(/the switch to the dedicated database failed|cannot be reached/);
      const stuck = await e.view(moving);
      expect(stuck.converged).toBe(false);
      expect(stuck.pending.changes).toEqual(
        expect.arrayContaining([
          // The plan's sizes were applied while preparing the move; the move itself is pending.
          expect.stringMatching(/^database move shared -> dedicated/),
        ]),
      );
      expect(stuck.database.placement).toBe("shared"); // where the data is, until a switch succeeds
      await new Promise((r) => setTimeout(r, 10_000));
    } finally {
      await engine.start();
    }
    const done = await e.converged(moving, "active");
    expect(done.database).toMatchObject({ placement: "dedicated", move: null });
    expect(await e.attachments(moving)).toEqual(["before-the-move.txt"]);
    expect(leftBehind(moving)).toEqual([]);
  }, 900_000);
});
