// Usage metering's decisions (api/services/usage-meter.ts) on the real PostgreSQL with the API's
// migrations: which tenants are measured and for which day, a day's peak, failures kept (never a
// zero), closed days recorded once, too-late days kept for the operator, caps watched. What it
// measures comes from a programmed probe (the backup agent's measurement runs for real in
// test/backup.test.ts), and where days go from a programmed recorder (Kill Bill itself in
// test/killbill-payments.test.ts).
import type { Pool } from "pg";
import { loadCatalog } from "../catalog";
import { createLogger } from "../api/common/logger";
import { createMetrics } from "../api/common/metrics";
import { KillBillError } from "../api/killbill/client";
import type { Mail } from "../api/domain/mail";
import type { Outbox } from "../api/mail/outbox";
import { lateWindowStart, UsageMeter, type UsageRecorder } from "../api/services/usage-meter";
import { migratedDatabase } from "./helpers/migrated-database";
import { readFleetHealth } from "../api/store/fleet-health";
import { TenantStore } from "../api/store/tenant-store";
import { UsageStore } from "../api/store/usage-store";

const db = migratedDatabase("usage");
let pool: Pool;
let clock = new Date("2026-12-10T09:00:00Z");
const found = new Map<string, { users: number; databaseBytes: number; filestoreBytes: number }>();
const probed: { tenantId: string; caps: unknown }[] = [];
const sent: { trackingId: string; unit: string; day: string; amount: number }[] = [];
let recorderFails: ((trackingId: string) => Error | undefined) | undefined;
const mails: Mail[] = [];
const scheduled: { tenantId: string; run: string; delayMs: number }[] = [];
let meter: UsageMeter;
let store: UsageStore;

const GB = 1e9;
const recorder: UsageRecorder = {
  async recordUsage(u) {
    const err = recorderFails?.(u.trackingId);
    if (err) throw err;
    sent.push({ trackingId: u.trackingId, unit: u.unit, day: u.day, amount: u.amount });
    return "201 recorded";
  },
};

beforeAll(async () => {
  pool = await db.create();
  store = new UsageStore(pool);
  meter = new UsageMeter({
    usage: store,
    tenants: new TenantStore(pool),
    catalog: loadCatalog(),
    probe: {
      async measure(tenantId, caps) {
        probed.push({ tenantId, caps });
        const m = found.get(tenantId);
        if (!m) throw new Error(`the agent could not reach ${tenantId}'s database`);
        return { ...m, storageBlocked: false };
      },
    },
    recorder,
    mail: { send: async (m: Mail) => void mails.push(m) } as unknown as Outbox,
    metrics: createMetrics(),
    logger: createLogger("silent"),
    now: () => clock,
    lateWindowMonths: 2,
    // The queue's job, run at once here; its delay kept to see the spread.
    schedule: async (tenantId, run, delayMs) => {
      scheduled.push({ tenantId, run, delayMs });
      await meter.measureOne(tenantId);
    },
    spreadMs: 3_600_000,
  });
});

afterAll(() => db.drop(pool));

/** A provisioned tenant on `plan`; `state` its desired (and observed) state. */
const tenant = (
  id: string,
  plan: string,
  o: { state?: string; subscription?: string | null; terminatedAt?: string } = {},
) =>
  pool.query(
    `INSERT INTO tenants (id, customer_id, spec, desired_state, source, desired_generation,
       observed_generation, observed_state, killbill_subscription_id, terminated_at, created_at, updated_at)
     VALUES ($1, 'c', $2, $3, 'killbill', 1, 1, $4, $5, $6, now() - interval '3 days', now())`,
    [
      id,
      { plan, odooVersion: "17", adminEmail: `owner@${id}.example` },
      o.state ?? "active",
      o.state === "terminated" ? "terminated" : (o.state ?? "active"),
      o.subscription === undefined ? `sub-${id}` : o.subscription,
      o.terminatedAt ?? null,
    ],
  );
const at = (iso: string) => (clock = new Date(iso));
const days = async (id: string) =>
  (await store.days(id, "2000-01-01", "2100-01-01")).map((d) => [
    d.day,
    d.unit,
    d.amount,
    d.status,
  ]);

describe("measuring", () => {
  beforeAll(async () => {
    await tenant("alpha", "basic");
    await tenant("sleepy", "trial"); // sleeping is active as billing has it: measured as it is
    await pool.query(`UPDATE tenants SET sleeping_since = now() WHERE id = 'sleepy'`);
    await tenant("held", "basic", { state: "suspended" });
    await tenant("gone", "basic", { state: "terminated", terminatedAt: "2026-12-08T17:00:00Z" });
    await tenant("never", "basic");
    await tenant("mute", "basic"); // provisioned, its database never reachable
    await pool.query(`UPDATE tenants SET observed_state = NULL WHERE id = 'never'`); // not provisioned
    found.set("alpha", { users: 4, databaseBytes: 0.3 * GB, filestoreBytes: 0.5 * GB });
    found.set("sleepy", { users: 1, databaseBytes: 0.01 * GB, filestoreBytes: 0 });
    found.set("held", { users: 2, databaseBytes: 0.01 * GB, filestoreBytes: 0 });
    found.set("gone", { users: 3, databaseBytes: 0.01 * GB, filestoreBytes: 2.5 * GB });
  });

  it("measures running, sleeping and suspended tenants for today, a terminated one once for its last day", async () => {
    at("2026-12-10T06:20:00Z");
    expect(await store.meterable(clock)).toEqual([
      { id: "alpha", plan: "basic", day: "2026-12-10" },
      { id: "gone", plan: "basic", day: "2026-12-08" },
      { id: "held", plan: "basic", day: "2026-12-10" },
      { id: "mute", plan: "basic", day: "2026-12-10" },
      { id: "sleepy", plan: "trial", day: "2026-12-10" },
    ]);
    await meter.run();
    expect(await days("gone")).toEqual([
      ["2026-12-08", "storageGb", 3, "measured"],
      ["2026-12-08", "users", 3, "measured"],
    ]);
    // Each tenant at its own offset in the hour's window, the same every run (like the backups).
    expect(scheduled.map((s) => s.run)).toEqual(Array(5).fill("20261210T0620"));
    const offsets = scheduled.map((s) => s.delayMs);
    expect(new Set(offsets).size).toBe(5);
    expect(offsets.every((d) => d >= 0 && d < 3_600_000)).toBe(true);
    // Measured once: the terminated tenant is not measured again.
    expect((await store.meterable(clock)).map((t) => t.id)).toEqual([
      "alpha",
      "held",
      "mute",
      "sleepy",
    ]);
    // The trial blocks at its caps, so the agent puts them in force; basic bills its overage.
    expect(probed.find((p) => p.tenantId === "sleepy")?.caps).toEqual({
      users: 5,
      storageBytes: 2 * GB,
    });
    expect(probed.find((p) => p.tenantId === "alpha")?.caps).toEqual({
      users: undefined,
      storageBytes: undefined,
    });
  });

  it("keeps each day's peak: a lower measurement later that day lowers nothing, every one is kept", async () => {
    found.set("alpha", { users: 7, databaseBytes: 0.3 * GB, filestoreBytes: 1.9 * GB });
    at("2026-12-10T12:20:00Z");
    await meter.run();
    found.set("alpha", { users: 5, databaseBytes: 0.3 * GB, filestoreBytes: 0.1 * GB });
    at("2026-12-10T18:20:00Z");
    await meter.run();
    expect(await days("alpha")).toEqual([
      ["2026-12-10", "storageGb", 3, "measured"],
      ["2026-12-10", "users", 7, "measured"],
    ]);
    const { rows } = await pool.query(
      `SELECT users FROM usage_measurements WHERE tenant_id = 'alpha' ORDER BY measured_at`,
    );
    expect(rows.map((r) => r.users)).toEqual([4, 7, 5]);
  });

  it("keeps a failed measurement with its error and writes no day: never a zero", async () => {
    found.delete("held");
    at("2026-12-11T00:20:00Z");
    await meter.run();
    expect(await days("held")).toEqual([
      ["2026-12-10", "storageGb", 1, "recorded"],
      ["2026-12-10", "users", 2, "recorded"],
    ]);
    const view = await meter.view("held");
    expect(view.lastFailure).toEqual({
      measuredAt: "2026-12-11T00:20:00.000Z",
      error: "the agent could not reach held's database",
    });
    expect(view.lastMeasurement?.users).toBe(2);
    // Never measured: its age runs from its creation (3 days), and UsageNotMeasured reads it.
    const age = (await readFleetHealth(pool)).usageMeasurementAge.get("mute")!;
    expect(age).toBeGreaterThan(3 * 86400 - 60);
    expect(age).toBeLessThan(3 * 86400 + 60);
  });
});

describe("recording in Kill Bill", () => {
  it("sends each closed day once, as <tenant>:<unit>:<day>; today waits; a replay sends nothing", async () => {
    // The run above (Dec 11) recorded Dec 10 and the terminated tenant's last day; not today's.
    expect(sent.map((s) => s.trackingId).sort()).toEqual([
      "alpha:storageGb:2026-12-10",
      "alpha:users:2026-12-10",
      "gone:storageGb:2026-12-08",
      "gone:users:2026-12-08",
      "held:storageGb:2026-12-10",
      "held:users:2026-12-10",
    ]);
    expect(sent.find((s) => s.trackingId === "alpha:users:2026-12-10")).toEqual({
      trackingId: "alpha:users:2026-12-10",
      unit: "internal-users",
      day: "2026-12-10",
      amount: 7,
    });
    // The trial bills no usage: its days are settled, not sent.
    expect(await days("sleepy")).toEqual([
      ["2026-12-10", "storageGb", 1, "not_billed"],
      ["2026-12-10", "users", 1, "not_billed"],
      ["2026-12-11", "storageGb", 1, "measured"], // today's
      ["2026-12-11", "users", 1, "measured"],
    ]);
    const before = sent.length;
    await meter.recordClosedDays();
    expect(sent.length).toBe(before);
  });

  it("a day Kill Bill already has (its answer lost in a crash) counts as recorded", async () => {
    at("2026-12-12T00:20:00Z");
    recorderFails = (id) =>
      id.startsWith("alpha:users")
        ? new KillBillError(
            'Kill Bill answered 400 to POST /1.0/kb/usages: {"message":"Usage record with trackingId alpha:users:2026-12-11 already exists"}',
            400,
          )
        : undefined;
    await meter.run();
    recorderFails = undefined;
    const [day] = (await store.days("alpha", "2026-12-11", "2026-12-11")).filter(
      (d) => d.unit === "users",
    );
    expect([day.status, day.killbillAnswer]).toEqual([
      "recorded",
      expect.stringMatching(/^already recorded: .*already exists/),
    ]);
  });

  it("Kill Bill unreachable: the pass stops, the days wait and go on the next run", async () => {
    at("2026-12-13T00:20:00Z");
    let calls = 0;
    recorderFails = () => (calls++, new KillBillError("Kill Bill unreachable: ECONNREFUSED"));
    expect(await meter.recordClosedDays()).toEqual({ recorded: 0, unrecorded: 1 });
    expect(calls).toBe(1);
    recorderFails = undefined;
    expect((await meter.recordClosedDays()).recorded).toBeGreaterThan(0);
    expect(await store.closedUnrecorded("2026-12-13")).toEqual([]);
  });

  it("a day older than Kill Bill's recompute window is kept as too late, alerted until an operator acknowledges it", async () => {
    // What an outage of two months leaves: a measured day never recorded.
    await pool.query(
      `INSERT INTO usage_days (tenant_id, unit, day, amount, plan, last_measured_at)
       VALUES ('alpha', 'users', '2026-10-01', 9, 'basic', '2026-10-01T06:20:00Z')`,
    );
    const sentBefore = sent.length;
    await meter.recordClosedDays();
    expect(sent.length).toBe(sentBefore);
    const [late] = await store.days("alpha", "2026-10-01", "2026-10-01");
    expect([late.status, late.lastError]).toEqual([
      "outside_window",
      "too late for Kill Bill: days before 2026-10-13 are no longer recomputed",
    ]);
    expect((await readFleetHealth(pool)).usageUnrecorded.get("alpha")).toBe(1);
    // Billed by hand in Kill Bill, then acknowledged here.
    await meter.correct("alpha", "users", "2026-10-01", 9, "ops: external charge INV-1");
    expect((await readFleetHealth(pool)).usageUnrecorded.get("alpha")).toBeUndefined();
    // A recorded day is Kill Bill's to adjust.
    await expect(meter.correct("alpha", "users", "2026-12-10", 1, "ops")).rejects.toThrow(
      /recorded in Kill Bill \(alpha:users:2026-12-10\): adjust the invoice there/,
    );
  });
});

describe("caps", () => {
  it("past a billed cap: the customer mailed once, the operator shown; back under, the mark goes", async () => {
    mails.length = 0;
    found.set("alpha", { users: 26, databaseBytes: 0.3 * GB, filestoreBytes: 0 });
    await meter.run();
    await meter.run();
    expect(mails.map((m) => [m.to, m.subject])).toEqual([
      ["owner@alpha.example", "Your Odoo instance alpha has reached its plan's internal users"],
    ]);
    expect(mails[0].text).toMatch(/26 internal users; the Basic plan allows 25.*billed/s);
    expect((await readFleetHealth(pool)).overLimit).toEqual([
      { tenant: "alpha", unit: "users", amount: 26, cap: 25 },
    ]);
    found.set("alpha", { users: 20, databaseBytes: 0.3 * GB, filestoreBytes: 0 });
    await meter.run();
    expect((await readFleetHealth(pool)).overLimit).toEqual([]);
  });

  it("a blocking plan at its cap: the customer told that nothing more can be added", async () => {
    mails.length = 0;
    found.set("sleepy", { users: 5, databaseBytes: 0.01 * GB, filestoreBytes: 0 });
    await meter.run();
    expect(mails.map((m) => m.to)).toEqual(["owner@sleepy.example"]);
    expect(mails[0].text).toMatch(
      /5 internal users; the Free trial plan allows 5.*no more can be added/s,
    );
  });
});

test.each([
  ["2026-12-05T10:00:00Z", 2, "2026-10-05"],
  ["2026-03-31T10:00:00Z", 1, "2026-02-28"], // no 31 February: the month's last day
  ["2026-01-15T00:00:00Z", 2, "2025-11-15"],
])("Kill Bill's window seen from %s, %i months: from %s", (now, months, start) => {
  expect(lateWindowStart(new Date(now), months)).toBe(start);
});
