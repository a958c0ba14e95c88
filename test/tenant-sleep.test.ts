// Which tenants sleep and wake (api/services/tenant-sleep.ts) on the real PostgreSQL with the
// API's migrations: the catalog's policies (the trial sleeps after 30 idle minutes and is woken
// every 12 hours for its crons; paid plans never sleep), and everything that comes before sleep:
// billing, an operator's hold, a change or a move under way.
import { Pool } from "pg";
import { loadCatalog } from "../catalog";
import { createLogger } from "../api/common/logger";
import { createMetrics } from "../api/common/metrics";
import { TenantSleepStore } from "../api/store/tenant-sleep-store";
import { TenantStore } from "../api/store/tenant-store";
import { TenantSleep } from "../api/services/tenant-sleep";
import { migratedDatabase } from "./helpers/migrated-database";

const database = migratedDatabase("sleep");
let pool: Pool;
let reconciles: string[];
let wakerConfigured: boolean;
let sleep: TenantSleep;

beforeAll(async () => {
  pool = await database.create();
});

afterAll(() => database.drop(pool));

beforeEach(async () => {
  await pool.query("DELETE FROM tenants");
  reconciles = [];
  wakerConfigured = true;
  sleep = new TenantSleep({
    store: new TenantSleepStore(pool),
    queues: { requestReconcile: async (id: string) => void reconciles.push(id) },
    catalog: loadCatalog(),
    logger: createLogger("silent"),
    metrics: createMetrics(),
    wakerConfigured: async () => wakerConfigured,
    minuteSeconds: 60,
  });
});

const minutesAgo = (m: number) => `now() - interval '${m} minutes'`;

/** A tenant row: active, converged, on the trial, last changed an hour ago, unless `set` says otherwise. */
async function tenant(id: string, set: Record<string, string> = {}) {
  const columns = {
    spec: `'{"plan": "trial", "odooVersion": "17"}'`,
    desired_state: "'active'",
    observed_state: "'active'",
    desired_generation: "2",
    observed_generation: "2",
    updated_at: minutesAgo(60),
    ...set,
  };
  await pool.query(
    `INSERT INTO tenants (id, customer_id, source, ${Object.keys(columns).join(", ")})
     VALUES ($1, 'c', 'admin', ${Object.values(columns).join(", ")})`,
    [id],
  );
}

const state = async (id: string) =>
  (
    await pool.query(
      "SELECT sleeping_since IS NOT NULL AS asleep, desired_generation AS generation FROM tenants WHERE id = $1",
      [id],
    )
  ).rows[0];

describe("idle tenants are put to sleep", () => {
  it.each<[string, Record<string, string>, boolean]>([
    ["a trial idle 40 minutes", { last_activity_at: minutesAgo(40) }, true],
    ["a trial never reported in use, last changed an hour ago", {}, true],
    ["a trial used 5 minutes ago", { last_activity_at: minutesAgo(5) }, false],
    [
      "a trial changed 5 minutes ago (just provisioned, or woken)",
      { updated_at: minutesAgo(5) },
      false,
    ],
    ["a paid plan, idle for hours", { spec: `'{"plan": "basic", "odooVersion": "17"}'` }, false],
    [
      "suspended by billing",
      { desired_state: "'suspended'", observed_state: "'suspended'", suspend_reason: "'overdue'" },
      false,
    ],
    [
      "held by an operator",
      {
        desired_state: "'suspended'",
        observed_state: "'suspended'",
        operator_hold: "true",
        suspend_reason: "'operator'",
      },
      false,
    ],
    ["a change not yet applied", { desired_generation: "3" }, false],
    ["a move between nodes under way", { node_move: `'{"phase": "started"}'` }, false],
    ["a database move under way", { database_move: `'{"phase": "prepared"}'` }, false],
    ["terminated", { desired_state: "'terminated'", observed_state: "'terminated'" }, false],
  ])("%s", async (_name, set, asleep) => {
    await tenant("t1", set);
    const before = await state("t1");
    expect(await sleep.sweep()).toEqual({ slept: asleep ? ["t1"] : [], woken: [] });
    const after = await state("t1");
    expect(after.asleep).toBe(asleep);
    // A sleep is a new desired generation, applied through the tenant's program.
    expect(after.generation).toBe(before.generation + (asleep ? 1 : 0));
    expect(reconciles).toEqual(asleep ? ["t1"] : []);
  });

  it("nothing sleeps on a platform whose gateways cannot wake it (no waker)", async () => {
    wakerConfigured = false;
    await tenant("t1", { last_activity_at: minutesAgo(600) });
    expect(await sleep.sweep()).toEqual({ slept: [], woken: [] });
  });

  it("a report of use arriving between the reading and the sleep keeps it awake", async () => {
    await tenant("t1", { last_activity_at: minutesAgo(40) });
    const store = new TenantSleepStore(pool);
    const [read] = await store.awake(["trial"]);
    expect(read.idleSeconds).toBeGreaterThan(30 * 60);
    await sleep.recordActivity("t1");
    expect(await store.sleep("t1", 30 * 60)).toBe(false);
    expect((await state("t1")).asleep).toBe(false);
  });
});

describe("sleeping tenants wake", () => {
  it.each<[string, Record<string, string>, string[]]>([
    [
      "asleep 13 hours: woken for its crons (every 12 h)",
      { sleeping_since: minutesAgo(13 * 60) },
      ["t1"],
    ],
    ["asleep 1 hour: left asleep", { sleeping_since: minutesAgo(60) }, []],
    [
      "asleep on a plan that no longer sleeps: woken",
      { sleeping_since: minutesAgo(5), spec: `'{"plan": "basic", "odooVersion": "17"}'` },
      ["t1"],
    ],
  ])("%s", async (_name, set, woken) => {
    await tenant("t1", set);
    expect(await sleep.sweep()).toEqual({ slept: [], woken });
    expect((await state("t1")).asleep).toBe(woken.length === 0);
  });

  it("twenty wakes at once: one wakes it (one new generation, one reconcile), the rest find it awake", async () => {
    await tenant("t1", { sleeping_since: minutesAgo(60) });
    const before = await state("t1");
    const results = await Promise.all(
      Array.from({ length: 20 }, () => sleep.wake("t1", "request")),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await state("t1")).toEqual({ asleep: false, generation: before.generation + 1 });
    expect(reconciles).toEqual(["t1"]);
    // Woken means used: its idle time starts over.
    const used = await pool.query(
      "SELECT now() - last_activity_at < interval '5 seconds' AS just FROM tenants WHERE id = 't1'",
    );
    expect(used.rows[0].just).toBe(true);
  });

  it("a change of its desired state (billing suspends it) ends its sleep", async () => {
    await tenant("t1", { sleeping_since: minutesAgo(60) });
    const store = new TenantStore(pool);
    await store.setDesired({
      id: "t1",
      customerId: "c",
      spec: { plan: "trial", odooVersion: "17" },
      desiredState: "suspended",
      source: "admin",
    });
    expect((await state("t1")).asleep).toBe(false);
    // The same state written again (a re-delivered event) leaves a sleep alone.
    await pool.query(
      "UPDATE tenants SET sleeping_since = now(), desired_state = 'active' WHERE id = 't1'",
    );
    await store.setDesired({
      id: "t1",
      customerId: "c",
      spec: { plan: "trial", odooVersion: "17" },
      desiredState: "active",
      source: "admin",
    });
    expect((await state("t1")).asleep).toBe(true);
  });
});
