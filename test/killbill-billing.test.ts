// Billing-driven desired state against a real Kill Bill (0.22.26, scripts/ensure-killbill.sh):
// accounts, bundles and subscriptions made over its REST API, its own push notifications to the
// real API runtime (the provider-free tenant program on the real engine), real SMTP. Each test is
// a path Kill Bill produces in normal operation that once destroyed or withheld a customer's data.
import request from "supertest";
import { ADMIN_TOKEN, ApiHarness, WEBHOOK_SECRET, eventually } from "./api-harness";
import { RealKillBill } from "./killbill-server";
import { PROVIDER_FREE } from "./stand-ins";

let kb: RealKillBill;
let h: ApiHarness;
const DAY = 86_400_000;
let clock = Date.now();
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const api = () => request(h.runtime.url!);
const tenant = async (id: string) => (await api().get(`/admin/tenants/${id}`).set(auth)).body;
const operations = async (id: string) =>
  (
    await h.runtime.pool.query(
      "SELECT type, status FROM operations WHERE tenant_id = $1 ORDER BY started_at",
      [id],
    )
  ).rows;
const converged = (id: string, state: string) => h.converged(id, state);
/** Resolves once Kill Bill's `eventType` about `accountId` has been processed; its result. */
const processed = (eventType: string, accountId: string, after = new Date(0)) =>
  eventually(
    async () =>
      (
        await h.runtime.pool.query(
          `SELECT result FROM webhook_inbox WHERE event_type = $1 AND account_id = $2
             AND processed_at IS NOT NULL AND received_at > $3 ORDER BY id DESC LIMIT 1`,
          [eventType, accountId, after],
        )
      ).rows[0]?.result as string | undefined,
    60000,
    `${eventType} of ${accountId} processed`,
  );
const mailsTo = (address: string) => h.smtp.messages.filter((m) => m.to.includes(address));

async function startApi() {
  await h.startRuntime();
  await kb.registerCallback(`${h.runtime.url}/webhooks/killbill/${WEBHOOK_SECRET}`);
}

beforeAll(async () => {
  kb = await RealKillBill.start();
  h = new ApiHarness({ killbill: kb, now: () => new Date(clock) });
  await h.start({ workers: true });
  await kb.registerCallback(`${h.runtime.url}/webhooks/killbill/${WEBHOOK_SECRET}`);
}, 180000);

afterAll(async () => {
  await h?.stop();
});

describe(`a real Kill Bill drives desired state ${PROVIDER_FREE}`, () => {
  it("a returning customer's instance survives account-level events (the old cancelled bundle is ignored)", async () => {
    const account = await kb.createAccount({
      name: "Back",
      externalKey: "back-corp",
      email: "o@back.example",
    });
    const first = await kb.subscribe(account, "odoo-basic-monthly", "back-co");
    await converged("back-co", "active");
    await kb.cancel(first.subscriptionId);
    await converged("back-co", "terminated");
    const second = await kb.subscribe(account, "odoo-basic-monthly", "back-co");
    const t = await converged("back-co", "active"); // reactivated: the same stack
    expect(t.billing.subscriptionId).toBe(second.subscriptionId);
    expect((await operations("back-co")).map((o) => o.type)).not.toContain("destroy");
    await eventually(async () =>
      mailsTo("o@back.example").some((m) => m.subject.includes("is back")),
    );
    const before = await operations("back-co");

    const at = new Date();
    await kb.accountBlockingState(account, "WATCH");
    expect(await processed("BLOCKING_STATE", account, at)).toMatch(
      new RegExp(
        `ignored: ended subscription ${first.subscriptionId} does not act on back-co.*back-co: unchanged`,
      ),
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await operations("back-co")).toEqual(before); // no destroy, no new up
    expect((await tenant("back-co")).desiredGeneration).toBe(t.desiredGeneration);
  });

  it("another customer re-using a released tenant id keeps it: the old account's events do nothing", async () => {
    const oldAccount = await kb.createAccount({
      name: "Old",
      externalKey: "old-corp",
      email: "o@old.example",
    });
    const old = await kb.subscribe(oldAccount, "odoo-basic-monthly", "reuse-co");
    await converged("reuse-co", "active");
    await kb.cancel(old.subscriptionId);
    await converged("reuse-co", "terminated");
    const newAccount = await kb.createAccount({
      name: "New",
      externalKey: "new-corp",
      email: "o@new.example",
    });
    // Within the grace period the id is still the old customer's: a billing problem, no takeover.
    const early = await kb.subscribe(newAccount, "odoo-basic-monthly", "reuse-co");
    await eventually(
      async () =>
        (await api().get("/admin/billing/problems").set(auth)).body.find(
          (p: { subscriptionId: string }) => p.subscriptionId === early.subscriptionId,
        ),
      60000,
      "billing problem for the terminated tenant's id",
    );
    expect(await tenant("reuse-co")).toMatchObject({
      customerId: "old-corp",
      desiredState: "terminated",
    });
    await kb.cancel(early.subscriptionId);
    // The grace period ends (our clock): deleted after its final backup; the id is free.
    clock += 31 * DAY;
    await h.runtime.queues.maintenance.add("grace-periods", { task: "grace-periods" });
    await converged("reuse-co", "deleted");
    clock -= 31 * DAY;
    await kb.subscribe(newAccount, "odoo-basic-monthly", "reuse-co");
    const t = await converged("reuse-co", "active");
    expect(t).toMatchObject({ customerId: "new-corp", adminEmail: "o@new.example" });
    const at = new Date();
    await kb.accountBlockingState(oldAccount, "WATCH");
    await processed("BLOCKING_STATE", oldAccount, at);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await tenant("reuse-co")).toMatchObject({
      customerId: "new-corp",
      adminEmail: "o@new.example",
      desiredState: "active",
      desiredGeneration: t.desiredGeneration,
    });
    expect(mailsTo("o@old.example").filter((m) => m.at > at.getTime())).toEqual([]);
  });

  it("a subscription naming an operator's tenant is a billing problem, never a takeover", async () => {
    await api()
      .post("/admin/tenants")
      .set(auth)
      .send({
        tenantId: "ops-co",
        customerId: "ops-corp",
        plan: "basic",
        odooVersion: "17",
        adminEmail: "o@ops.example",
      })
      .expect(202);
    await converged("ops-co", "active");
    const taker = await kb.createAccount({
      name: "Taker",
      externalKey: "taker",
      email: "o@taker.example",
    });
    const sub = await kb.subscribe(taker, "odoo-premium-monthly", "ops-co");
    const problem = await eventually(
      async () =>
        (await api().get("/admin/billing/problems").set(auth)).body.find(
          (p: { subscriptionId: string }) => p.subscriptionId === sub.subscriptionId,
        ),
      60000,
      "billing problem listed",
    );
    expect(problem).toMatchObject({ tenantId: "ops-co", accountId: taker });
    expect(problem.problem).toMatch(/created by an operator/);
    await eventually(async () =>
      mailsTo("ops@example.com").some((m) => m.subject.includes(sub.subscriptionId)),
    );
    const metrics = (await api().get("/metrics")).text;
    expect(metrics).toMatch(/odoo_saas_billing_problems [1-9]/);
    await kb.cancel(sub.subscriptionId);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await tenant("ops-co")).toMatchObject({
      customerId: "ops-corp",
      adminEmail: "o@ops.example",
      plan: "basic",
      desiredState: "active",
    });
  });

  it("an operator's hold is not lifted by billing, and delete is refused while Kill Bill bills", async () => {
    const account = await kb.createAccount({
      name: "Hold",
      externalKey: "hold-corp",
      email: "o@hold.example",
    });
    const sub = await kb.subscribe(account, "odoo-basic-monthly", "hold-co");
    await converged("hold-co", "active");
    await api().post("/admin/tenants/hold-co/suspend").set(auth).expect(202);
    await converged("hold-co", "suspended");
    const at = new Date();
    await kb.accountBlockingState(account, "WATCH");
    await processed("BLOCKING_STATE", account, at);
    expect(await tenant("hold-co")).toMatchObject({
      desiredState: "suspended",
      operatorHold: true,
    });
    await eventually(async () =>
      mailsTo("o@hold.example").some((m) => m.raw.includes("by our operations team")),
    );

    const refused = await api().delete("/admin/tenants/hold-co").set(auth);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(`subscription ${sub.subscriptionId}`);
    await api().post("/admin/tenants/hold-co/resume").set(auth).expect(202);
    await converged("hold-co", "active");
    await kb.cancel(sub.subscriptionId);
    await converged("hold-co", "terminated");
  });

  it("ordinary accounts get an instance: e-mail external key, no external key, no e-mail", async () => {
    const byMail = await kb.createAccount({
      name: "Mail",
      externalKey: "John.Doe@Example.com",
      email: "john@example.com",
    });
    await kb.subscribe(byMail, "odoo-basic-monthly", "mail-key-co");
    const noKey = await kb.createAccount({ name: "No key", email: "o@nokey.example" });
    await kb.subscribe(noKey, "odoo-basic-monthly", "a-fairly-long-tenant-id-for-no-key-co");
    const noMail = await kb.createAccount({ name: "No mail", externalKey: "no-mail" });
    await kb.subscribe(noMail, "odoo-basic-monthly", "no-mail-co");
    expect((await converged("mail-key-co", "active")).customerId).toMatch(
      /^john-doe-example-com-[0-9a-f]{8}$/,
    );
    expect((await converged("a-fairly-long-tenant-id-for-no-key-co", "active")).customerId).toBe(
      noKey,
    );
    expect((await converged("no-mail-co", "active")).adminEmail).toBeNull();

    // The customer fixes the account in Kill Bill: ACCOUNT_CHANGE brings the new address.
    await kb.updateAccount(noMail, { email: "o@nomail.example" });
    await eventually(
      async () => (await tenant("no-mail-co")).adminEmail === "o@nomail.example",
      60000,
      "e-mail",
    );
  });

  it("bundle keys: upper case is normalised; a bundle without a key is a listed problem, not an instance", async () => {
    const account = await kb.createAccount({
      name: "Keys",
      externalKey: "keys-corp",
      email: "o@keys.example",
    });
    await kb.subscribe(account, "odoo-basic-monthly", "UPPER-Co");
    await converged("upper-co", "active");
    const keyless = await kb.subscribe(account, "odoo-basic-monthly");
    const problem = await eventually(
      async () =>
        (await api().get("/admin/billing/problems").set(auth)).body.find(
          (p: { subscriptionId: string }) => p.subscriptionId === keyless.subscriptionId,
        ),
      60000,
      "keyless bundle listed",
    );
    expect(problem.problem).toMatch(/no external key/);
    expect((await tenant(keyless.bundleExternalKey)).error?.code).toBe("not_found");
  });

  it("plain-text notifications (TAG_CREATION) are accepted and ignored, not refused", async () => {
    const account = await kb.createAccount({
      name: "Tags",
      externalKey: "tags-corp",
      email: "o@tags.example",
    });
    const at = new Date();
    await kb.tagAccount(account);
    expect(await processed("TAG_CREATION", account, at)).toBe(
      "ignored: TAG_CREATION does not affect tenants",
    );
  });

  it("a paused bundle suspends with the right reason in the mail", async () => {
    const account = await kb.createAccount({
      name: "Pause",
      externalKey: "pause-corp",
      email: "o@pause.example",
    });
    const sub = await kb.subscribe(account, "odoo-basic-monthly", "pause-co");
    await converged("pause-co", "active");
    await kb.pauseBundle(sub.bundleId);
    expect((await converged("pause-co", "suspended")).suspendReason).toBe("paused");
    const mail = await eventually(async () =>
      mailsTo("o@pause.example").find((m) => m.subject.includes("is suspended")),
    );
    expect(mail.raw).toMatch(/subscription is paused/);
    expect(mail.raw).not.toMatch(/unpaid/);
    await kb.resumeBundle(sub.bundleId);
    await converged("pause-co", "active");
  });

  it("events missed while the API was down are caught up by the resync at start", async () => {
    await h.runtime.close();
    const account = await kb.createAccount({
      name: "Missed",
      externalKey: "missed-corp",
      email: "o@missed.example",
    });
    await kb.subscribe(account, "odoo-basic-monthly", "missed-co");
    await new Promise((r) => setTimeout(r, 2000)); // Kill Bill's push failed; its retry is 15 min away
    await startApi();
    await converged("missed-co", "active");
  });

  it("a trial-only plan ends after its days by our own clock (0.22 does not expire FIXEDTERM)", async () => {
    const account = await kb.createAccount({
      name: "Trial",
      externalKey: "trial-corp",
      email: "o@trial.example",
    });
    await kb.subscribe(account, "odoo-trial", "trial-co");
    await converged("trial-co", "active");
    clock += 15 * DAY;
    await api().post("/admin/billing/resync").set(auth).expect(200);
    await converged("trial-co", "terminated");
    clock -= 15 * DAY;
  });
});
