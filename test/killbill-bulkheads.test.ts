// One customer's problem never blocks another's, against a real Kill Bill (0.22.26) reached
// through a fault-injecting proxy (test/helpers/killbill-faults.ts): a future-dated (PENDING)
// subscription, a paused (BLOCKED) one, Kill Bill answering 500 or not at all for one
// subscription or one account, one poisoned account among 50 in a resync, and a plan no node can
// run. Each failure stays with its own unit (an event, a subscription, an account), is shown to
// operators with its reason, retried with backoff, and everything else goes on.
import request from "supertest";
import { defaultTenantSettings } from "./fixtures";
import { ADMIN_TOKEN, ApiHarness, WEBHOOK_SECRET, eventually } from "./api-harness";
import { KillBillFaults } from "./helpers/killbill-faults";
import { RealKillBill } from "./killbill-server";
import { PROVIDER_FREE } from "./stand-ins";

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
/**
 * A production-like platform: no cap on tenants' limits (the plans ask what they ask), and a
 * shared PostgreSQL large enough for the resync's 50 tenants.
 */
const platformSettings = {
  ...defaultTenantSettings,
  postgres: { ...defaultTenantSettings.postgres, maxConnections: 5000 },
};

/** Retries after 2 s, 4 s, 8 s… (10 s, 20 s, 40 s… in production): the same schedule, sooner. */
const quickRetries = { BILLING_RETRY_FIRST_MS: "2000" };

let kb: RealKillBill;
let faults: KillBillFaults;
let h: ApiHarness;
const api = () => request(h.runtime.url!);
const tenant = async (id: string) => (await api().get(`/admin/tenants/${id}`).set(auth)).body;
const converged = (id: string, state = "active") => h.converged(id, state);
const problems = async () =>
  (await api().get("/admin/billing/problems").set(auth).expect(200)).body as Record<
    string,
    unknown
  >[];
const inboxOf = async (accountId: string) =>
  (
    await h.runtime.pool.query(
      "SELECT event_type, processed_at, result FROM webhook_inbox WHERE account_id = $1 ORDER BY id",
      [accountId],
    )
  ).rows as { event_type: string; processed_at: Date | null; result: string | null }[];
const inFuture = (days: number) =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
/** A subscription that starts on a later day: Kill Bill's PENDING until then. */
async function subscribeLater(accountId: string, bundleKey: string, days: number) {
  const day = inFuture(days);
  const res = await kb.call(
    "POST",
    `/1.0/kb/subscriptions?entitlementDate=${day}&billingDate=${day}`,
    { accountId, planName: "odoo-basic-monthly", bundleExternalKey: bundleKey },
  );
  return res.headers.get("location")!.split("/").pop()!;
}
const mailsTo = (address: string) => h.smtp.messages.filter((m) => m.to.includes(address));

beforeAll(async () => {
  kb = await RealKillBill.start();
  faults = new KillBillFaults(kb.url);
  await faults.start();
  h = new ApiHarness({ killbill: { ...kb, url: faults.url }, platformSettings, env: quickRetries });
  await h.start({ workers: true });
  await kb.registerCallback(`${h.runtime.url}/webhooks/killbill/${WEBHOOK_SECRET}`);
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await faults?.stop();
});

describe(`one customer's problem never blocks another's (real Kill Bill) ${PROVIDER_FREE}`, () => {
  it("a future-dated subscription runs nothing until it starts, and its account's other events go on", async () => {
    const account = await kb.createAccount(
      { name: "Later", externalKey: "later-corp", email: "o@later.example" },
      { paymentMethod: false },
    );
    await kb.subscribe(account, "odoo-basic-monthly", "later-first"); // claims the trial
    await converged("later-first");
    const pending = await subscribeLater(account, "later-second", 3);
    expect((await kb.subscription(pending)).state).toBe("PENDING");
    // Its events are processed, and nothing runs: no tenant, no trial claimed, no Kill Bill write.
    await eventually(
      async () =>
        (await inboxOf(account)).some((e) =>
          e.result?.includes(`not started: subscription ${pending} starts on`),
        ),
      60_000,
      "the PENDING subscription's event processed",
    );
    expect((await api().get("/admin/tenants/later-second").set(auth)).status).toBe(404);
    expect((await kb.subscription(pending)).phaseType).toBe("TRIAL");

    // The same account goes on: another subscription (its trial used: started paid; the
    // invoice's collection fails, there is no payment method), then the customer pays.
    await kb.subscribe(account, "odoo-basic-monthly", "later-third");
    const suspended = await eventually(
      async () => {
        const t = await tenant("later-third");
        return t.converged && t.desiredState === "suspended" && t;
      },
      90_000,
      "later-third suspended for its failed payment",
    );
    expect(suspended.suspendReason).toBe("payment_failed");
    await kb.addPaymentMethod(account);
    await kb.payAll(account);
    // The payment reaches the tenant it concerns, although the account holds a PENDING one.
    const paid = await converged("later-third");
    expect(paid.billing.status).toBe("paid");
    await eventually(
      async () => (await inboxOf(account)).every((e) => e.processed_at !== null),
      60_000,
      "every event of the account processed",
    );
    expect((await problems()).filter((p) => p.accountId === account)).toEqual([]);
    // Invoices and payments are the account's: its failed payment may have suspended later-first
    // too (every subscription of the account is re-read), and the payment brings it back.
    expect((await converged("later-first")).status).toBe("running");
  }, 300_000);

  it("a paused (BLOCKED) second trial is never written to Kill Bill: suspended, its trial decided once it runs", async () => {
    const account = await kb.createAccount({
      name: "Paused",
      externalKey: "paused-corp",
      email: "o@paused.example",
    });
    await kb.subscribe(account, "odoo-basic-monthly", "paused-first");
    await converged("paused-first");
    const second = await kb.subscribe(account, "odoo-basic-monthly", "paused-second");
    await converged("paused-second");
    await kb.pauseBundle(second.bundleId);
    await converged("paused-second", "suspended");
    await kb.resumeBundle(second.bundleId);
    await converged("paused-second");
    expect((await problems()).filter((p) => p.accountId === account)).toEqual([]);
  }, 300_000);

  it("Kill Bill failing on one subscription: it is quarantined and retried; the account's other one goes on", async () => {
    const account = await kb.createAccount({
      name: "Half",
      externalKey: "half-corp",
      email: "o@half.example",
    });
    const a = await kb.subscribe(account, "odoo-basic-monthly", "half-a");
    await kb.subscribe(account, "odoo-basic-monthly", "half-b");
    await converged("half-a");
    await converged("half-b");
    faults.poison(a.subscriptionId, "500");
    await kb.updateAccount(account, { email: "new@half.example" });
    // The other subscription takes the new e-mail at once.
    await eventually(
      async () => (await tenant("half-b")).adminEmail === "new@half.example",
      60_000,
      "half-b updated",
    );
    const quarantined = await eventually(
      async () =>
        (await problems()).find(
          (p) => p.kind === "quarantined" && p.subscriptionId === a.subscriptionId,
        ),
      60_000,
      "half-a's subscription quarantined",
    );
    expect(quarantined).toMatchObject({
      unit: "subscription",
      accountId: account,
      problem: expect.stringMatching(/Kill Bill answered 500/),
      nextAttemptAt: expect.any(String),
    });
    const metrics = (await api().get("/metrics")).text;
    expect(metrics).toMatch(/odoo_saas_billing_quarantined\{kind="subscription"\} 1/);
    // The event itself is done (its result names the quarantined part); nothing waits on it.
    await eventually(
      async () =>
        (await inboxOf(account))
          .filter((e) => e.event_type === "ACCOUNT_CHANGE")
          .every((e) => e.processed_at),
      60_000,
      "the account change processed",
    );
    // It keeps failing: operators are told once (third attempt, ~6 s with the backoff).
    await eventually(
      async () =>
        mailsTo("ops@example.com").find((m) =>
          m.subject.includes(`subscription ${a.subscriptionId} quarantined`),
        ),
      120_000,
      "the operator mail",
    );
    faults.heal(a.subscriptionId);
    await eventually(
      async () => (await tenant("half-a")).adminEmail === "new@half.example",
      120_000,
      "half-a retried",
    );
    // Another path (the account's own retry, the resync) may bring the e-mail first: the
    // quarantine itself is cleared at its next attempt, which now succeeds.
    await eventually(
      async () =>
        (await problems()).filter((p) => p.subscriptionId === a.subscriptionId).length === 0,
      60_000,
      "half-a's quarantine cleared",
    );
    expect(
      mailsTo("ops@example.com").filter((m) => m.subject.includes(a.subscriptionId)),
    ).toHaveLength(1);
  }, 300_000);

  it("Kill Bill not answering for one account: its event waits, quarantined; another account's does not", async () => {
    const slow = await kb.createAccount({
      name: "Slow",
      externalKey: "slow-corp",
      email: "o@slow.example",
    });
    const quick = await kb.createAccount({
      name: "Quick",
      externalKey: "quick-corp",
      email: "o@quick.example",
    });
    await kb.subscribe(slow, "odoo-basic-monthly", "slow-co");
    await kb.subscribe(quick, "odoo-basic-monthly", "quick-co");
    await converged("slow-co");
    await converged("quick-co");
    faults.poison(slow, "hang");
    await kb.updateAccount(slow, { email: "new@slow.example" });
    await kb.updateAccount(quick, { email: "new@quick.example" });
    await eventually(
      async () => (await tenant("quick-co")).adminEmail === "new@quick.example",
      60_000,
      "quick-co",
    );
    const waiting = await eventually(
      async () =>
        (await problems()).find(
          (p) => p.kind === "quarantined" && p.unit === "event" && p.accountId === slow,
        ),
      60_000,
      "the slow account's event quarantined",
    );
    expect(waiting.problem).toMatch(/Kill Bill unreachable/);
    faults.heal(slow);
    await eventually(
      async () => (await tenant("slow-co")).adminEmail === "new@slow.example",
      120_000,
      "slow-co",
    );
    expect((await problems()).filter((p) => p.accountId === slow)).toEqual([]);
  }, 300_000);

  it("a plan no node can run is refused before billing acts on it: a billing problem, not a failing engine run", async () => {
    const account = await kb.createAccount({
      name: "Huge",
      externalKey: "huge-corp",
      email: "o@huge.example",
    });
    const sub = await kb.subscribe(account, "odoo-enterprise-monthly", "huge-co");
    const problem = await eventually(
      async () =>
        (await problems()).find(
          (p) => p.kind === "problem" && p.subscriptionId === sub.subscriptionId,
        ),
      60_000,
      "the billing problem",
    );
    expect(problem.problem).toMatch(
      /plan enterprise needs 8 CPUs and 16384 MB per container; the largest node has/,
    );
    expect((await api().get("/admin/tenants/huge-co").set(auth)).status).toBe(404);
    await eventually(async () =>
      mailsTo("ops@example.com").some((m) =>
        m.subject.includes(`billing problem: subscription ${sub.subscriptionId}`),
      ),
    );
    // An operator is told the same, as a conflict.
    const refused = await api().post("/admin/tenants").set(auth).send({
      tenantId: "huge-admin",
      customerId: "huge-corp",
      plan: "enterprise",
      odooVersion: "17",
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/needs 8 CPUs/);
    const plan = await api()
      .post("/admin/tenants/later-first/plan")
      .set(auth)
      .send({ plan: "enterprise" });
    expect(plan.status).toBe(409);
  }, 120_000);
});

describe(`the resync visits every account (a Kill Bill tenant of its own, no workers) ${PROVIDER_FREE}`, () => {
  it("one poisoned account among 50: the other 49 are applied, it is reported and quarantined", async () => {
    const own = await RealKillBill.start();
    await own.registerCallback("http://127.0.0.1:9/nowhere"); // the API learns by resync only
    const proxy = new KillBillFaults(own.url);
    await proxy.start();
    const r = new ApiHarness({
      killbill: { ...own, url: proxy.url },
      platformSettings,
      env: quickRetries,
    });
    await r.start({ workers: false });
    try {
      const accounts: string[] = [];
      for (let i = 0; i < 50; i++) {
        const account = await own.createAccount({
          name: `R${i}`,
          externalKey: `resync-${i}`,
          email: `o${i}@resync.example`,
        });
        await own.subscribe(account, "odoo-basic-monthly", `resync-${String(i).padStart(2, "0")}`);
        accounts.push(account);
      }
      const poisoned = accounts[17];
      proxy.poison(poisoned, "500");
      const report = await request(r.runtime.url!)
        .post("/admin/billing/resync")
        .set(auth)
        .expect(200);
      expect(report.body).toMatchObject({ accounts: 50, subscriptions: 49, changed: 49 });
      expect(report.body.failed).toEqual([
        { kind: "account", id: poisoned, reason: expect.stringMatching(/Kill Bill answered 500/) },
      ]);
      const stored = await r.runtime.pool.query("SELECT id FROM tenants ORDER BY id");
      expect(stored.rows).toHaveLength(49);
      expect(stored.rows.map((x) => x.id)).not.toContain("resync-17");
      const shown = (await request(r.runtime.url!).get("/admin/billing/problems").set(auth)).body;
      expect(shown).toEqual([
        expect.objectContaining({ kind: "quarantined", unit: "account", accountId: poisoned }),
      ]);
      proxy.heal(poisoned);
      const again = await request(r.runtime.url!)
        .post("/admin/billing/resync")
        .set(auth)
        .expect(200);
      expect(again.body).toMatchObject({ accounts: 50, subscriptions: 50, changed: 1, failed: [] });
      expect((await request(r.runtime.url!).get("/admin/billing/problems").set(auth)).body).toEqual(
        [],
      );
    } finally {
      await r.stop();
      await proxy.stop();
    }
  }, 300_000);
});
