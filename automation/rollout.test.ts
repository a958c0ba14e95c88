import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadCatalog } from "../catalog";
import type { FleetSpec } from "./fleet";
import { rollout, rolloutBatches, rolloutOrder, type RolloutEvent } from "./rollout";
import { RolloutJournal } from "./rollout-journal";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const journal = () => new RolloutJournal(path.join(dir, `r${++n}.json`));
const spec = (tenantId: string, plan = "basic"): FleetSpec => ({ tenantId, plan });

describe("rollout order and batches", () => {
  test("smallest plan first, then by id: the same fleet always gives the same order", () => {
    const specs = [
      spec("b", "premium"),
      spec("c", "basic"),
      spec("a", "standard"),
      spec("d", "basic"),
    ];
    expect(rolloutOrder(specs, loadCatalog())).toEqual(["c", "d", "a", "b"]);
  });

  test.each([
    [0, 2, [["1", "2"], ["3", "4"], ["5"]]],
    [1, 2, [["1"], ["2", "3"], ["4", "5"]]],
    [
      2,
      10,
      [
        ["1", "2"],
        ["3", "4", "5"],
      ],
    ],
    [9, 2, [["1", "2", "3", "4", "5"]]],
  ])("canary %i, batch size %i", (canary, size, batches) => {
    expect(rolloutBatches(["1", "2", "3", "4", "5"], canary, size)).toEqual(batches);
  });
});

describe("rollout", () => {
  const run = async (
    specs: FleetSpec[],
    fail: Record<string, "backup" | "up" | "health">,
    o: {
      canary: number;
      batchSize: number;
      maxFailures: number;
      journal: RolloutJournal;
      resume?: boolean;
    },
  ) => {
    const calls: string[] = [];
    const events: RolloutEvent[] = [];
    const step = (name: "backup" | "up" | "health") => async (s: FleetSpec) => {
      calls.push(`${name} ${s.tenantId}`);
      if (fail[s.tenantId] === name) throw new Error(`${name} refused\nmore lines`);
      return name === "backup" ? `b-${s.tenantId}` : undefined;
    };
    const restore = async (s: FleetSpec, backupId: string) => {
      calls.push(`restore ${s.tenantId} ${backupId}`);
    };
    const ok = await rollout(
      specs,
      specs.map((s) => s.tenantId),
      {
        backup: step("backup"),
        up: async (s) => void (await step("up")(s)),
        health: async (s) => void (await step("health")(s)),
        restore,
      },
      { ...o, concurrency: 1, resume: o.resume ?? false, onEvent: (e) => events.push(e) },
    );
    return { ok, calls, events };
  };
  const fleet = ["t1", "t2", "t3", "t4", "t5"].map((id) => spec(id));

  test("each batch is backed up before any of it changes; a tenant whose backup failed is left alone", async () => {
    const r = await run(
      fleet,
      { t3: "backup" },
      { canary: 1, batchSize: 2, maxFailures: 2, journal: journal() },
    );
    expect(r.calls).toEqual([
      "backup t1",
      "up t1",
      "health t1",
      "backup t2",
      "backup t3",
      "up t2",
      "health t2",
      "backup t4",
      "backup t5",
      "up t4",
      "health t4",
      "up t5",
      "health t5",
    ]);
    expect(r.ok).toBe(false);
    expect(r.events.at(-1)).toEqual({ event: "rollout-finished", succeeded: 4, failed: 1 });
  });

  test("a failed up restores the backup its batch took, and says so", async () => {
    const r = await run(
      fleet.slice(0, 2),
      { t2: "up" },
      { canary: 0, batchSize: 2, maxFailures: 5, journal: journal() },
    );
    expect(r.calls).toEqual([
      "backup t1",
      "backup t2",
      "up t1",
      "health t1",
      "up t2",
      "restore t2 b-t2",
    ]);
    expect(r.events).toContainEqual({ event: "tenant-restored", tenantId: "t2", backupId: "b-t2" });
    expect(r.events).toContainEqual({
      event: "tenant-failed",
      tenantId: "t2",
      stage: "up",
      error: "up refused; backup b-t2 restored",
    });
  });

  test("a failed canary stops the rollout and leaves the rest untouched", async () => {
    const r = await run(
      fleet,
      { t1: "health" },
      { canary: 1, batchSize: 2, maxFailures: 5, journal: journal() },
    );
    expect(r.calls).toEqual(["backup t1", "up t1", "health t1"]);
    expect(r.events.at(-1)).toEqual({
      event: "rollout-stopped",
      reason: "a canary tenant failed",
      succeeded: 0,
      failed: 1,
      remaining: 4,
    });
  });

  test("stops after the batch in which --max-failures is reached; --resume retries the failed and goes on", async () => {
    const j = journal();
    const first = await run(
      fleet,
      { t2: "up", t3: "up" },
      { canary: 0, batchSize: 3, maxFailures: 2, journal: j },
    );
    expect(first.ok).toBe(false);
    expect(first.calls.filter((c) => c.startsWith("up"))).toEqual(["up t1", "up t2", "up t3"]);
    expect(j.read()).toMatchObject({
      stopped: "2 tenants failed (--max-failures 2)",
      finished: false,
    });
    // A new rollout refuses to start over an unfinished one.
    await expect(
      run(fleet, {}, { canary: 0, batchSize: 3, maxFailures: 2, journal: j }),
    ).rejects.toThrow(/unfinished.*--resume/);
    const resumed = await run(
      fleet,
      {},
      { canary: 0, batchSize: 3, maxFailures: 2, journal: j, resume: true },
    );
    expect(resumed.ok).toBe(true);
    expect(resumed.calls.filter((c) => c.startsWith("up"))).toEqual([
      "up t2",
      "up t3",
      "up t4",
      "up t5",
    ]);
    expect(resumed.events[0]).toMatchObject({
      event: "rollout-started",
      remaining: 4,
      resumed: true,
    });
    await expect(
      run(fleet, {}, { canary: 0, batchSize: 3, maxFailures: 2, journal: j, resume: true }),
    ).rejects.toThrow(/finished: nothing to resume/);
  });
});
