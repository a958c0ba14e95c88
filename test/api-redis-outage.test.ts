// The API while its Redis is away for 20 s and comes back empty (a Redis of its own, the image
// built here, on a loopback port, removed under it): webhooks and admin calls are still answered
// and stored, the outage is logged once with a count instead of a line per retry, and after it the
// sweeper finds every stored change and unsent mail again: each tenant converges once, each mail is
// sent once, and the schedules are back.
import { ApiHarness, asAdmin, eventually, gatewayAuth, sleepingTenant } from "./api-harness";
import { RedisContainer } from "./helpers/redis-container";
import { notification } from "./killbill-stand-in";
import { PROVIDER_FREE, KILL_BILL_STAND_IN } from "./stand-ins";

const redis = new RedisContainer(16379);
const logs: Record<string, any>[] = [];
const h = new ApiHarness({
  env: { REDIS_URL: redis.url },
  logTo: { write: (line) => void logs.push(JSON.parse(line)) },
});

const api = () => h.api();
const admin = asAdmin;
const hook = (body: unknown) => h.hook(body);
const row = async (id: string) =>
  (await h.runtime.pool.query("SELECT * FROM tenants WHERE id = $1", [id])).rows[0];
const converged = (id: string, state: string) =>
  eventually(
    async () => {
      const t = await row(id);
      return t?.observed_generation === t?.desired_generation && t.observed_state === state;
    },
    120000,
    `${id} ${state}`,
  );
const operations = (id: string) => h.operations(id);
const created = (tenantId: string) => {
  const sub = h.killbill.subscribe({
    tenantId,
    customer: `cust-${tenantId}`,
    email: `o@${tenantId}.example`,
    planName: "odoo-basic-monthly",
  });
  return notification("SUBSCRIPTION_CREATION", "SUBSCRIPTION", sub.subscriptionId, sub.accountId, {
    actionType: "EFFECTIVE",
    bundleExternalKey: tenantId,
    subscriptionChangeUndo: false,
  });
};

beforeAll(async () => {
  await redis.start();
  await h.start();
}, 120000);
afterAll(async () => {
  await h.stop().catch(() => undefined);
  await redis.remove();
}, 60000);

describe(`Redis going away ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("Redis down 20 s with its data lost: answered meanwhile, logged once, every change applied once after", async () => {
    // Its "ready" mail is refused once by SMTP: its job waits in Redis for a retry when Redis goes.
    h.smtp.failNext = 1;
    expect((await hook(created("before-co"))).status).toBe(200);
    await converged("before-co", "active");

    // A sleeping tenant whose gateway will ask for it to be woken during the outage.
    await sleepingTenant(h, "sleepy-co");

    await redis.remove();
    const wentAway = Date.now();
    const during = created("during-co");
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      expect((await hook(during)).status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2000);
    }
    const t0 = Date.now();
    const create = await admin(api().post("/admin/tenants")).send({
      tenantId: "admin-co",
      customerId: "c-admin",
      plan: "basic",
      odooVersion: "17",
      adminEmail: "o@admin-co.example",
    });
    expect(create.status).toBe(202);
    expect((await admin(api().post("/admin/tenants/before-co/suspend"))).status).toBe(202);
    // A wake is stored at once (the reconcile it asks for waits for Redis, via the sweeper).
    const wake = await api().post("/gateway/tenants/sleepy-co/wake").set(gatewayAuth("sleepy-co"));
    expect([wake.status, wake.body]).toEqual([202, { woken: true }]);
    expect(Date.now() - t0).toBeLessThan(5000); // not held until Redis returns
    const ready = await api().get("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.redis).toMatch(/^failing/);

    await new Promise((r) => setTimeout(r, Math.max(0, 20000 - (Date.now() - wentAway))));
    await redis.start(); // empty: every queued job is gone

    await Promise.all([
      converged("during-co", "active"),
      converged("admin-co", "active"),
      converged("before-co", "suspended"),
      converged("sleepy-co", "active"),
    ]);
    expect((await row("sleepy-co")).applied_spec.state).toBe("active");
    await new Promise((r) => setTimeout(r, 2000)); // let any duplicate show itself
    expect(await operations("during-co")).toEqual([{ type: "up", status: "succeeded" }]);
    expect(await operations("admin-co")).toEqual([{ type: "up", status: "succeeded" }]);
    expect(await operations("before-co")).toEqual([
      { type: "up", status: "succeeded" },
      { type: "up", status: "succeeded" },
    ]);
    const unprocessed = await h.runtime.pool.query(
      "SELECT count(*)::int AS n FROM webhook_inbox WHERE processed_at IS NULL",
    );
    expect(unprocessed.rows[0].n).toBe(0);
    const mailed = (to: string) =>
      eventually(async () => {
        const m = h.smtp.messages.filter((x) => x.to.includes(to));
        return m.length > 0 && m;
      });
    expect((await mailed("o@during-co.example")).map((m) => m.subject)).toEqual([
      "Your Odoo instance during-co is ready",
    ]);
    // The mail whose job Redis lost comes from the outbox (PostgreSQL), once; then its suspension's.
    const before = await eventually(async () => {
      const m = (await mailed("o@before-co.example")).map((x) => x.subject);
      return m.length >= 2 && m;
    });
    expect(before.sort()).toEqual([
      "Your Odoo instance before-co is ready",
      "Your Odoo instance before-co is suspended",
    ]);
    const unsent = await h.runtime.pool.query(
      "SELECT count(*)::int AS n FROM mail_outbox WHERE sent_at IS NULL",
    );
    expect(unsent.rows[0].n).toBe(0);
    // The schedules Redis lost are back.
    const schedulers = await h.runtime.queues.maintenance.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual([
      "backup-retention",
      "drift-checks",
      "grace-periods",
      "idle-sleep",
      "monitoring-watch",
      "nightly-backups",
      "repository-check",
      "restore-drills",
      "usage-metering",
    ]);

    const said = logs.filter((l) => /^Redis /.test(String(l.msg)));
    expect(said.map((l) => l.msg)).toEqual([
      "Redis unavailable: queues paused, webhooks still stored",
      "Redis available again",
    ]);
    expect(said[1].errors).toBeGreaterThan(1);
    expect(said[1].seconds).toBeGreaterThanOrEqual(19);
    expect(logs.filter((l) => l.level >= 50)).toEqual([]); // no error line, no stack per retry
  }, 240000);
});
