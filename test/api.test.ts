// The API over real HTTP (supertest) against real PostgreSQL and Redis, a real SMTP receiver,
// a Kill Bill stand-in (test/killbill-stand-in.ts) and the real engine running the
// provider-free stand-in tenant program.
import * as fs from "node:fs";
import { ApiHarness, asAdmin, eventually, WEBHOOK_SECRET } from "./api-harness";
import { notification } from "./killbill-stand-in";
import { PROVIDER_FREE, KILL_BILL_STAND_IN } from "./stand-ins";

const h = new ApiHarness();
beforeAll(() => h.start(), 60000);
afterAll(() => h.stop(), 60000);

const api = () => h.api();
const admin = asAdmin;
const hook = (body: unknown) => h.hook(body);
const tenant = async (id: string) => (await admin(api().get(`/admin/tenants/${id}`))).body;
const converged = (id: string, state: string) => h.converged(id, state);
const operations = (id: string) => h.operations(id);
const mailsTo = (address: string) => h.smtp.messages.filter((m) => m.to.includes(address));
/** An account with one subscription in a bundle keyed by the tenant id (Kill Bill stand-in). */
const subscribe = (tenantId: string, customer: string, email: string, planName: string) =>
  h.killbill.subscribe({ tenantId, customer, email, planName });
/** A push notification about a subscription, as Kill Bill sends it. */
const subscriptionEvent = (
  sub: { subscriptionId: string; accountId: string },
  eventType: string,
  metaData: Record<string, unknown> | null = null,
) => hook(notification(eventType, "SUBSCRIPTION", sub.subscriptionId, sub.accountId, metaData));

describe(`Kill Bill webhooks -> desired state -> reconcile ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("provisions once for duplicated events (REQUESTED + EFFECTIVE + ENTITLEMENT + a retry)", async () => {
    const sub = subscribe("dup-co", "cust-dup", "owner@dup.example", "odoo-basic-monthly");
    const meta = (actionType: string) => ({
      actionType,
      bundleExternalKey: "dup-co",
      subscriptionChangeUndo: false,
    });
    const events = [
      notification("ENTITLEMENT_CREATION", "SUBSCRIPTION", sub.subscriptionId, sub.accountId),
      notification(
        "SUBSCRIPTION_CREATION",
        "SUBSCRIPTION",
        sub.subscriptionId,
        sub.accountId,
        meta("REQUESTED"),
      ),
      notification(
        "SUBSCRIPTION_CREATION",
        "SUBSCRIPTION",
        sub.subscriptionId,
        sub.accountId,
        meta("EFFECTIVE"),
      ),
    ];
    for (const e of [...events, events[2]]) expect((await hook(e)).status).toBe(200);
    const t = await converged("dup-co", "active");
    expect(t).toMatchObject({
      plan: "basic",
      customerId: "cust-dup",
      adminEmail: "owner@dup.example",
      url: "https://dup-co.odoo.test",
    });
    await new Promise((r) => setTimeout(r, 1500)); // let any extra work show itself
    expect(await operations("dup-co")).toEqual([{ type: "up", status: "succeeded" }]);
    const ready = await eventually(
      async () => mailsTo("owner@dup.example").length > 0 && mailsTo("owner@dup.example"),
    );
    expect(ready.map((m) => m.subject)).toEqual(["Your Odoo instance dup-co is ready"]);
    expect(ready[0].raw).toContain("https://dup-co.odoo.test");
  });

  it("a cancellation processed before the creation provisions nothing", async () => {
    const sub = subscribe("late-co", "cust-late", "o@late.example", "odoo-basic-monthly");
    sub.state = "CANCELLED"; // by the time we re-read, it is already cancelled
    const res = await subscriptionEvent(sub, "SUBSCRIPTION_CREATION", {
      actionType: "EFFECTIVE",
    });
    const row = await eventually(async () => {
      const r = await h.runtime.pool.query(
        "SELECT result FROM webhook_inbox WHERE id = $1 AND processed_at IS NOT NULL",
        [res.body.received],
      );
      return r.rows[0];
    });
    expect(row.result).toMatch(/^ignored: subscription \S+ has ended; no tenant late-co$/);
    expect(await operations("late-co")).toEqual([]);
    expect(mailsTo("o@late.example")).toEqual([]);
  });

  it("overdue suspends, payment resumes, and a plan change resizes", async () => {
    const sub = subscribe("pay-co", "cust-pay", "o@pay.example", "odoo-basic-monthly");
    await subscriptionEvent(sub, "SUBSCRIPTION_CREATION", {
      actionType: "EFFECTIVE",
    });
    await converged("pay-co", "active");

    sub.state = "BLOCKED";
    h.killbill.overdue.set(sub.accountId, {
      name: "SUSPENDED",
      isDisableEntitlementAndChangesBlocked: true,
    });
    await hook(notification("OVERDUE_CHANGE", "ACCOUNT", sub.accountId, sub.accountId)); // metaData null
    await converged("pay-co", "suspended");
    expect((await tenant("pay-co")).suspendReason).toBe("overdue");

    sub.state = "ACTIVE";
    h.killbill.overdue.delete(sub.accountId);
    const blocking = {
      service: "overdue-service",
      stateName: "__KILLBILL__CLEAR__OVERDUE_STATE__",
      blockingType: "ACCOUNT",
    };
    await hook(notification("BLOCKING_STATE", "ACCOUNT", sub.accountId, sub.accountId, blocking));
    await converged("pay-co", "active");

    sub.planName = "odoo-standard-monthly";
    await subscriptionEvent(sub, "SUBSCRIPTION_CHANGE", {
      actionType: "EFFECTIVE",
    });
    await eventually(
      async () =>
        (await tenant("pay-co")).plan === "standard" && (await tenant("pay-co")).converged,
    );
    const outputs = (await h.runtime.pool.query("SELECT outputs FROM tenants WHERE id = 'pay-co'"))
      .rows[0].outputs;
    expect(outputs.plan).toBe("standard");
    const subjects = (
      await eventually(async () => mailsTo("o@pay.example").length >= 4 && mailsTo("o@pay.example"))
    ).map((m) => m.subject);
    expect(subjects).toEqual([
      "Your Odoo instance pay-co is ready",
      "Your Odoo instance pay-co is suspended",
      "Your Odoo instance pay-co is running again",
      "Your Odoo instance pay-co now runs on the Standard plan",
    ]);
    expect((await operations("pay-co")).map((o) => o.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
  });

  it("every event delivered 5 times, newer ones before older ones: one effect each", async () => {
    const sub = subscribe("echo-co", "cust-echo", "o@echo.example", "odoo-basic-monthly");
    const created = notification(
      "SUBSCRIPTION_CREATION",
      "SUBSCRIPTION",
      sub.subscriptionId,
      sub.accountId,
      {
        actionType: "EFFECTIVE",
        bundleExternalKey: "echo-co",
        subscriptionChangeUndo: false,
      },
    );
    const fiveTimes = (...events: unknown[]) =>
      Promise.all(events.flatMap((e) => Array.from({ length: 5 }, () => hook(e))));
    for (const res of await fiveTimes(created)) expect(res.status).toBe(200);
    await converged("echo-co", "active");

    // The plan changes; its event arrives together with stale copies of the creation.
    sub.planName = "odoo-standard-monthly";
    const changed = notification(
      "SUBSCRIPTION_CHANGE",
      "SUBSCRIPTION",
      sub.subscriptionId,
      sub.accountId,
      {
        actionType: "EFFECTIVE",
      },
    );
    await fiveTimes(changed, created);
    await eventually(
      async () =>
        (await tenant("echo-co")).plan === "standard" && (await tenant("echo-co")).converged,
    );

    // Overdue and then paid, before either event arrives: the payment's event first, the
    // overdue one after it. Kill Bill is read, not the event: nothing to suspend.
    const paid = notification(
      "INVOICE_PAYMENT_SUCCESS",
      "INVOICE",
      "30000000-0000-4000-8000-0000000000ec",
      sub.accountId,
    );
    const overdue = notification("OVERDUE_CHANGE", "ACCOUNT", sub.accountId, sub.accountId);
    await fiveTimes(paid, overdue);

    await eventually(async () => {
      const r = await h.runtime.pool.query(
        "SELECT count(*)::int AS n FROM webhook_inbox WHERE account_id = $1 AND processed_at IS NULL",
        [sub.accountId],
      );
      return r.rows[0].n === 0;
    });
    await new Promise((r) => setTimeout(r, 1500)); // let any extra work show itself
    expect(await operations("echo-co")).toEqual([
      { type: "up", status: "succeeded" },
      { type: "up", status: "succeeded" },
    ]);
    expect((await tenant("echo-co")).observedState).toBe("active");
    const subjects = (
      await eventually(
        async () => mailsTo("o@echo.example").length >= 2 && mailsTo("o@echo.example"),
      )
    ).map((m) => m.subject);
    expect(subjects).toEqual([
      "Your Odoo instance echo-co is ready",
      "Your Odoo instance echo-co now runs on the Standard plan",
    ]);
  });

  it("a reading of Kill Bill held up while the next event comes never overwrites the newer one", async () => {
    const sub = subscribe("stale-co", "cust-stale", "o@stale.example", "odoo-basic-monthly");
    const changed = () =>
      subscriptionEvent(sub, "SUBSCRIPTION_CHANGE", { actionType: "EFFECTIVE" });
    await subscriptionEvent(sub, "SUBSCRIPTION_CREATION", { actionType: "EFFECTIVE" });
    await converged("stale-co", "active");

    // The first event's reading (still basic) is answered 2 s late; meanwhile the plan changes
    // and the second event reads "standard".
    h.killbill.slowOnce = { path: new RegExp(`/subscriptions/${sub.subscriptionId}$`), ms: 2000 };
    const asked = h.killbill.requests.length;
    await changed();
    await eventually(async () =>
      h.killbill.requests.slice(asked).some((r) => r.includes(sub.subscriptionId)),
    );
    sub.planName = "odoo-standard-monthly";
    await changed();

    await eventually(async () => {
      const r = await h.runtime.pool.query(
        "SELECT count(*)::int AS n FROM webhook_inbox WHERE object_id = $1 AND processed_at IS NULL",
        [sub.subscriptionId],
      );
      return r.rows[0].n === 0;
    });
    const t = await converged("stale-co", "active");
    expect(t.plan).toBe("standard");
  });

  it("an event that arrives while Kill Bill is unavailable: its subscription is set aside and applied once Kill Bill answers", async () => {
    const sub = subscribe("outage-co", "cust-outage", "o@outage.example", "odoo-basic-monthly");
    h.killbill.unavailableFor = 2;
    const res = await subscriptionEvent(sub, "ENTITLEMENT_CREATION");
    expect(res.status).toBe(200); // acknowledged at once, whatever Kill Bill's state
    await converged("outage-co", "active");
    const row = (
      await h.runtime.pool.query("SELECT result FROM webhook_inbox WHERE id = $1", [
        res.body.received,
      ])
    ).rows[0];
    expect(row.result).toMatch(`quarantined: subscription ${sub.subscriptionId}: Kill Bill`);
    const left = (await admin(api().get("/admin/billing/problems"))).body;
    expect(
      left.filter((p: { subscriptionId: string }) => p.subscriptionId === sub.subscriptionId),
    ).toEqual([]);
  });

  it("cancellation terminates: the stack and its data stay for the grace period, the customer is told until when", async () => {
    const sub = subscribe("bye-co", "cust-bye", "o@bye.example", "odoo-trial");
    await subscriptionEvent(sub, "ENTITLEMENT_CREATION");
    await converged("bye-co", "active");
    sub.state = "CANCELLED";
    await subscriptionEvent(sub, "ENTITLEMENT_CANCEL");
    const t = await converged("bye-co", "terminated");
    expect(t.status).toBe("terminated");
    const keptDays = (Date.parse(t.dataKeptUntil) - Date.now()) / 86_400_000;
    expect(keptDays).toBeGreaterThan(29.9);
    expect(keptDays).toBeLessThanOrEqual(30);
    const mail = await eventually(async () =>
      mailsTo("o@bye.example").find((m) => m.subject.includes("has been stopped")),
    );
    expect(mail.raw).toContain(`Your data is kept until ${t.dataKeptUntil.slice(0, 10)}`);
    expect(mail.raw).toContain("export");
    expect((await operations("bye-co")).map((o) => o.type)).toEqual(["up", "up"]);
  });
});

describe(`mail ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("the outbox failing when a finished run is recorded: nothing is recorded half, the tenant converges, one mail", async () => {
    // The first mail to this address cannot be written (a sequence: not undone by the rollback).
    await h.runtime.pool.query(`
      CREATE SEQUENCE outbox_fault;
      CREATE FUNCTION outbox_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.to_address = 'o@once.example' AND nextval('outbox_fault') = 1 THEN
          RAISE EXCEPTION 'injected: the outbox cannot be written';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER outbox_fault BEFORE INSERT ON mail_outbox
        FOR EACH ROW EXECUTE FUNCTION outbox_fault();`);
    try {
      const res = await admin(api().post("/admin/tenants")).send({
        tenantId: "once-co",
        customerId: "c",
        plan: "trial",
        odooVersion: "17",
        adminEmail: "o@once.example",
      });
      expect(res.status).toBe(202);
      const t = await converged("once-co", "active");
      expect(t.lastError).toBeNull();
      const ops = await h.runtime.pool.query(
        "SELECT status, error FROM operations WHERE tenant_id = 'once-co' ORDER BY started_at",
      );
      // The run whose record failed is failed (never succeeded, then rewritten); the next one
      // recorded the generation and its mail together.
      expect(ops.rows).toEqual([
        { status: "failed", error: expect.stringContaining("the outbox cannot be written") },
        { status: "succeeded", error: null },
      ]);
      await eventually(async () => mailsTo("o@once.example").length === 1);
      await new Promise((r) => setTimeout(r, 1500));
      expect(mailsTo("o@once.example").map((m) => m.subject)).toEqual([
        "Your Odoo instance once-co is ready",
      ]);
    } finally {
      await h.runtime.pool.query(
        "DROP TRIGGER outbox_fault ON mail_outbox; DROP FUNCTION outbox_fault(); DROP SEQUENCE outbox_fault;",
      );
    }
  });

  it("a refused send does not fail the operation and is retried until delivered", async () => {
    h.smtp.failNext = 1;
    const res = await admin(api().post("/admin/tenants")).send({
      tenantId: "mail-co",
      customerId: "c",
      plan: "trial",
      odooVersion: "17",
      adminEmail: "o@mail.example",
    });
    expect(res.status).toBe(202);
    const t = await converged("mail-co", "active");
    expect(t.lastOperation.status).toBe("succeeded");
    const mails = await eventually(
      async () => mailsTo("o@mail.example").length > 0 && mailsTo("o@mail.example"),
      60000,
    );
    expect(mails.map((m) => m.subject)).toEqual(["Your Odoo instance mail-co is ready"]);
    expect(h.smtp.failNext).toBe(0); // the first attempt was refused
  });

  it("an operation that can never succeed is not retried and operators are told", async () => {
    // A spec that cannot be valid any more (its plan left the catalog after it was stored).
    await h.runtime.pool.query(
      `INSERT INTO tenants (id, customer_id, spec, desired_state, source)
       VALUES ('bad-co', 'cust-bad', '{"plan": "gold", "odooVersion": "17", "adminEmail": "o@bad.example"}', 'active', 'admin')`,
    );
    await h.runtime.queues.enqueueReconcile("bad-co");
    const mail = await eventually(async () =>
      mailsTo("ops@example.com").find((m) => m.subject.includes("bad-co")),
    );
    expect(mail.subject).toBe("[odoo-saas] reconcile of bad-co failed");
    expect(mail.raw).toContain('unknown plan "gold"');
    expect(await operations("bad-co")).toEqual([{ type: "up", status: "failed" }]);
    expect((await tenant("bad-co")).lastError).toMatch(/invalid tenant spec/);
    // A job queued before the workers gave up (the sweeper's, racing the first) runs nothing.
    await h.runtime.queues.enqueueReconcile("bad-co");
    await new Promise((r) => setTimeout(r, 2500)); // two sweeps: the sweeper leaves it alone
    expect(await operations("bad-co")).toHaveLength(1);
    expect(mailsTo("ops@example.com").filter((m) => m.subject.includes("bad-co"))).toHaveLength(1);
  });
});

describe(`webhook input handling ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  const inboxCount = async () =>
    Number((await h.runtime.pool.query("SELECT count(*) FROM webhook_inbox")).rows[0].count);

  it.each([
    [
      "a wrong secret",
      () =>
        api()
          .post("/webhooks/killbill/wrong-secret-0123456789")
          .send(notification("SUBSCRIPTION_CREATION", "SUBSCRIPTION", null, null)),
      404,
    ],
    [
      "malformed JSON",
      () =>
        api()
          .post(`/webhooks/killbill/${WEBHOOK_SECRET}`)
          .set("Content-Type", "application/json")
          .send("{not json"),
      400,
    ],
    [
      "wrong types",
      () =>
        hook({
          eventType: 42,
          objectType: "SUBSCRIPTION",
          objectId: null,
          accountId: null,
          metaData: null,
        }),
      400,
    ],
    [
      "a missing field",
      () =>
        hook({
          eventType: "SUBSCRIPTION_CREATION",
          objectType: "SUBSCRIPTION",
          objectId: null,
          accountId: null,
        }),
      400,
    ],
    [
      "an extra field",
      () =>
        hook({
          ...notification("SUBSCRIPTION_CREATION", "SUBSCRIPTION", null, null),
          tenantId: "x",
        }),
      400,
    ],
    [
      "an oversized body",
      () =>
        hook({
          ...notification("SUBSCRIPTION_CREATION", "SUBSCRIPTION", null, null),
          metaData: JSON.stringify({ pad: "x".repeat(70000) }),
        }),
      413,
    ],
  ])("rejects %s with a clear 4xx and stores nothing", async (_name, send, status) => {
    const before = await inboxCount();
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.error?.message ?? "").not.toMatch(/at |Error:/); // no stack traces
    expect(await inboxCount()).toBe(before);
  });

  it("stores and ignores unknown and irrelevant event types, enqueuing nothing", async () => {
    const before = (await admin(api().get("/admin/tenants?limit=500"))).body.tenants.length;
    for (const type of ["SOME_FUTURE_EVENT", "INVOICE_CREATION", "TENANT_CONFIG_CHANGE"]) {
      const res = await hook(
        notification(
          type,
          "ACCOUNT",
          null,
          null,
          type === "TENANT_CONFIG_CHANGE" ? { key: "CATALOG" } : null,
        ),
      );
      expect(res.status).toBe(200);
      const id = res.body.received;
      const row = await eventually(
        async () =>
          (
            await h.runtime.pool.query(
              "SELECT result FROM webhook_inbox WHERE id = $1 AND processed_at IS NOT NULL",
              [id],
            )
          ).rows[0],
      );
      expect(row.result).toMatch(/^ignored/);
    }
    expect((await admin(api().get("/admin/tenants?limit=500"))).body.tenants.length).toBe(before);
  });

  it("answers without waiting for processing: a webhook costs about what /healthz costs", async () => {
    // Interleaved with the floor (the same server's /healthz), so the machine's load falls on
    // both; medians, so a pause of the machine does not decide. Work moved into the request path
    // (a Kill Bill reading, an engine run) adds tens of milliseconds to seconds to every request.
    const webhook: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      await api().get("/healthz").expect(200);
      floor.push(performance.now() - t);
      t = performance.now();
      const res = await hook(notification("INVOICE_CREATION", "INVOICE", null, null));
      webhook.push(performance.now() - t);
      expect(res.status).toBe(200);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    // (bench/webhooks measures the real figures)
    expect(median(webhook) - median(floor)).toBeLessThan(20);
  });
});

describe(`admin API ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("concurrent creates: exactly one 202 per new id, every other 409, the winner untouched", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `race-${i}`);
    const attempts = ids.flatMap((id) =>
      Array.from({ length: 10 }, (_, c) => ({ id, customer: `customer-${c}` })),
    );
    const answers = await Promise.all(
      attempts.map(async (a) => ({
        ...a,
        status: (
          await admin(api().post("/admin/tenants")).send({
            tenantId: a.id,
            customerId: a.customer,
            plan: "trial",
            odooVersion: "17",
            adminEmail: `${a.customer}@race.example`,
          })
        ).status,
      })),
    );
    expect(answers.filter((a) => ![202, 409].includes(a.status))).toEqual([]);
    const rows = (
      await h.runtime.pool.query(
        "SELECT id, customer_id, desired_generation FROM tenants WHERE id LIKE 'race-%' ORDER BY id",
      )
    ).rows;
    expect(rows).toHaveLength(10);
    for (const id of ids) {
      const winners = answers.filter((a) => a.id === id && a.status === 202);
      expect(winners).toHaveLength(1);
      expect(rows.find((r) => r.id === id)).toEqual({
        id,
        customer_id: winners[0].customer,
        desired_generation: 1,
      });
    }
  });

  it.each([
    ["NUL", "acme%00"],
    ["a control character", "ac%0Ame"],
    ["upper case", "ACME"],
    ["a Unicode look-alike (Cyrillic а)", "%D0%B0cme"],
    ["over-long", "a".repeat(70)],
    ["a path trick", "..%2F..%2Fetc"],
  ])("a tenant id with %s is refused with 422 on every route, never 500", async (_name, id) => {
    for (const [method, path] of [
      ["get", `/admin/tenants/${id}`],
      ["post", `/admin/tenants/${id}/suspend`],
      ["post", `/admin/tenants/${id}/reconcile`],
      ["post", `/admin/tenants/${id}/preview`],
      ["delete", `/admin/tenants/${id}`],
    ] as const) {
      const res = await admin(api()[method](path));
      expect([path, res.status]).toEqual([path, 422]);
      expect(res.body.error.details.problems.join(" ")).toMatch(/^id: /);
    }
  });

  it("lists a page at a time with a cursor, each tenant once while tenants are added, and filters by state, plan, lagging and failed", async () => {
    // [id, desired state, plan, desired generation, observed generation, last error]
    const rows: [string, string, string, number, number, string | null][] = [
      ["list-a", "active", "premium", 1, 1, null],
      ["list-b", "suspended", "premium", 2, 2, null],
      ["list-c", "active", "premium", 3, 2, null],
      ["list-d", "active", "basic", 2, 1, "engine run failed"],
      ["list-e", "terminated", "premium", 4, 4, null],
      ["list-f", "active", "premium", 1, 0, "engine run failed"],
      ["list-g", "deleted", "basic", 2, 2, null],
    ];
    for (const [id, state, plan, desired, observed, error] of rows)
      await h.runtime.pool.query(
        `INSERT INTO tenants (id, customer_id, spec, desired_state, desired_generation,
           observed_generation, observed_state, last_error, source)
         VALUES ($1, 'list-co', $2, $3, $4, $5, $3, $6, 'admin')`,
        [id, { plan, odooVersion: "17", customDomains: [] }, state, desired, observed, error],
      );
    const pages = async (query: string) => {
      const seen: any[] = [];
      let cursor: string | null = null;
      do {
        const res = await admin(
          api().get(`/admin/tenants?limit=2${query}${cursor ? `&cursor=${cursor}` : ""}`),
        );
        expect(res.status).toBe(200);
        expect(res.body.tenants.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.tenants);
        cursor = res.body.nextCursor;
      } while (cursor);
      return seen;
    };
    const ids = (views: any[]) => views.map((v) => v.id).filter((id) => id.startsWith("list-"));

    const all = await pages("");
    expect(all.map((v) => v.id)).toEqual([...all.map((v) => v.id)].sort()); // id order, no repeats
    expect(new Set(all.map((v) => v.id)).size).toBe(all.length);
    expect(ids(all)).toEqual(rows.map((r) => r[0]));
    expect(ids(await pages("&state=active&plan=premium"))).toEqual(["list-a", "list-c", "list-f"]);
    expect(ids(await pages("&lagging=true"))).toEqual(["list-c", "list-d", "list-f"]);
    expect(ids(await pages("&failed=true&plan=basic"))).toEqual(["list-d"]);
    for (const v of await pages("&lagging=true")) expect(v.converged).toBe(false);

    // Tenants created during a walk: each tenant is seen once; those after the cursor are seen,
    // those before it are not (they are in the next walk).
    const before = (await pages("")).map((v) => v.id);
    const walked: string[] = [];
    let cursor: string | null = null;
    let n = 0;
    do {
      const res = await admin(
        api().get(`/admin/tenants?limit=3${cursor ? `&cursor=${cursor}` : ""}`),
      );
      walked.push(...res.body.tenants.map((v: { id: string }) => v.id));
      cursor = res.body.nextCursor;
      n++;
      // Zero-padded, so each new "zzz" sorts after every earlier one (ids compare as text).
      const k = String(n).padStart(3, "0");
      for (const id of [`aaa-walk-${k}`, `zzz-walk-${k}`])
        await h.runtime.pool.query(
          `INSERT INTO tenants (id, customer_id, spec, desired_state, desired_generation,
             observed_generation, observed_state, source)
           VALUES ($1, 'walk-co', $2, 'active', 1, 1, 'active', 'admin')`,
          [id, { plan: "basic", odooVersion: "17", customDomains: [] }],
        );
    } while (cursor);
    expect(new Set(walked).size).toBe(walked.length);
    expect(walked.filter((id) => !id.includes("-walk-"))).toEqual(before);
    expect(walked.filter((id) => id.startsWith("zzz-walk-")).length).toBe(n - 1);
    expect(walked.some((id) => id.startsWith("aaa-walk-"))).toBe(false);
    await h.runtime.pool.query("DELETE FROM tenants WHERE customer_id = 'walk-co'");

    for (const bad of [
      "limit=0",
      "limit=501",
      "cursor=%00",
      "cursor=bm90IGFuIGlk!",
      "state=gone",
      "lagging=yes",
      "sort=id",
    ]) {
      const res = await admin(api().get(`/admin/tenants?${bad}`));
      expect([bad, res.status]).toEqual([bad, 422]);
    }
  });

  it("a generation that changes nothing the program reads costs a fingerprint, not an engine run", async () => {
    const body = {
      tenantId: "same-co",
      customerId: "cust-same",
      plan: "basic",
      odooVersion: "17",
      adminEmail: "o@same.example",
    };
    expect((await admin(api().post("/admin/tenants")).send(body)).status).toBe(202);
    const t = await converged("same-co", "active");
    expect(t.inputsFingerprint).toMatch(/^[0-9a-f]{64}$/);
    const outputs = async () =>
      (await h.runtime.pool.query("SELECT outputs FROM tenants WHERE id = 'same-co'")).rows[0]
        .outputs;
    const applied = await outputs();
    // From now on an engine run of this tenant takes 30 s: a skipped one is done long before.
    h.knobs["same-co"] = { delayMs: 30_000 };
    await h.runtime.pool.query(
      "UPDATE tenants SET desired_generation = desired_generation + 1 WHERE id = 'same-co'",
    );
    const asked = Date.now();
    expect((await admin(api().post("/admin/tenants/same-co/reconcile"))).status).toBe(202);
    const after = await eventually(async () => {
      const x = await tenant("same-co");
      return x.converged && x.observedGeneration === t.observedGeneration + 1 && x;
    }, 25_000);
    // Well under the 30 s any engine run takes now, however loaded the machine.
    expect(Date.now() - asked).toBeLessThan(25_000);
    const op = await admin(api().get(`/admin/operations/${after.lastOperation.id}`));
    expect(op.body).toMatchObject({ type: "up", status: "succeeded", changes: {} });
    expect(await outputs()).toEqual(applied);
    // A real change still runs the engine.
    h.knobs["same-co"] = {};
    expect((await admin(api().post("/admin/tenants/same-co/suspend"))).status).toBe(202);
    const suspended = await converged("same-co", "suspended");
    const run = await admin(api().get(`/admin/operations/${suspended.lastOperation.id}`));
    expect(run.body.changes).toMatchObject({ update: 1 });
    expect(suspended.inputsFingerprint).not.toBe(t.inputsFingerprint);
  });

  it("a drift check finds what was changed out of band, changes nothing, and is listed and counted", async () => {
    const world = `${h.dataDir}/world`;
    h.knobs["drift-co"] = { worldDir: world };
    const body = {
      tenantId: "drift-co",
      customerId: "cust-drift",
      plan: "basic",
      odooVersion: "17",
      adminEmail: "o@drift.example",
    };
    expect((await admin(api().post("/admin/tenants")).send(body)).status).toBe(202);
    const t = await converged("drift-co", "active");
    expect(t.drift).toBeNull();
    const checked = async (after: string | null) =>
      eventually(async () => {
        const x = await tenant("drift-co");
        return x.drift && x.drift.checkedAt !== after && x;
      }, 30_000);
    expect((await admin(api().post("/admin/tenants/drift-co/drift"))).status).toBe(202);
    const clean = await checked(null);
    expect(clean.drift.resources).toEqual([]);

    // Someone changes the instance by hand.
    const file = `${world}/drift-co.json`;
    fs.writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), memoryMb: 1 }),
    );
    expect((await admin(api().post("/admin/tenants/drift-co/drift"))).status).toBe(202);
    const drifted = await checked(clean.drift.checkedAt);
    expect(drifted.drift.resources).toEqual([
      {
        type: "pulumi-nodejs:dynamic:Resource",
        name: "drift-co-record",
        op: "update",
        changedProperties: ["memoryMb"],
      },
    ]);
    expect(JSON.parse(fs.readFileSync(file, "utf8")).memoryMb).toBe(1); // reported, not changed
    const listed = await admin(api().get("/admin/tenants?drifted=true"));
    expect(listed.body.tenants.map((x: { id: string }) => x.id)).toEqual(["drift-co"]);
    const metrics = await api().get("/metrics");
    expect(metrics.text).toMatch(/^odoo_saas_tenants_drifted 1$/m);
    expect(metrics.text).toMatch(/^odoo_saas_drift_checks_total\{result="drifted"\} 1$/m);

    // An engine run for a real change puts the resource back: no drift any more.
    expect(
      (await admin(api().post("/admin/tenants/drift-co/plan")).send({ plan: "standard" })).status,
    ).toBe(202);
    const resized = await converged("drift-co", "active");
    expect(resized.drift.resources).toEqual([]);
    expect((await admin(api().get("/admin/tenants?drifted=true"))).body.tenants).toEqual([]);
  });

  it("an operation id that is not a UUID is a 422, not a database error", async () => {
    for (const id of ["nope", "00000000-0000-0000-0000-00000000000%00"]) {
      const res = await admin(api().get(`/admin/operations/${id}`));
      expect(res.status).toBe(422);
    }
  });

  it("refuses requests without the right bearer token", async () => {
    expect((await api().get("/admin/tenants")).status).toBe(401);
    expect((await api().get("/admin/tenants").set("Authorization", "Bearer nope")).status).toBe(
      401,
    );
  });

  it("creates a trial directly, previews, resizes, suspends, resumes, deletes; streams progress", async () => {
    const body = {
      tenantId: "trial-co",
      customerId: "walk-in",
      plan: "trial",
      odooVersion: "18",
      adminEmail: "o@trial.example",
    };
    // A version whose official image is frozen is not offered to new tenants.
    const frozen = await admin(api().post("/admin/tenants")).send({ ...body, odooVersion: "16" });
    expect(frozen.status).toBe(422);
    expect(frozen.body.error.message).toMatch(
      /Odoo 16's official image is no longer maintained.*17, 18, 19/,
    );
    const created = await admin(api().post("/admin/tenants")).send(body);
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({
      id: "trial-co",
      desiredState: "active",
      converged: false,
      source: "admin",
    });
    const t = await converged("trial-co", "active");

    const op = await admin(api().get(`/admin/operations/${t.lastOperation.id}`));
    expect(op.body).toMatchObject({
      tenantId: "trial-co",
      type: "up",
      status: "succeeded",
      changes: { create: 4 },
    });
    const sse = await admin(api().get(`/admin/operations/${t.lastOperation.id}/events`));
    expect(sse.headers["content-type"]).toContain("text/event-stream");
    expect(sse.text).toContain("event: resource-finished");
    expect(sse.text).toContain(
      'event: operation-finished\ndata: {"kind":"operation-finished","status":"succeeded"}',
    );

    expect(
      (await admin(api().post("/admin/tenants/trial-co/plan")).send({ plan: "gold" })).status,
    ).toBe(422);
    const preview = await admin(api().post("/admin/tenants/trial-co/preview"));
    expect(preview.status).toBe(200);
    expect(preview.body.changes).toEqual([]);

    expect(
      (await admin(api().post("/admin/tenants/trial-co/plan")).send({ plan: "basic" })).status,
    ).toBe(202);
    await eventually(
      async () =>
        (await tenant("trial-co")).converged && (await tenant("trial-co")).plan === "basic",
    );
    expect((await admin(api().post("/admin/tenants/trial-co/suspend"))).status).toBe(202);
    await converged("trial-co", "suspended");
    expect((await admin(api().post("/admin/tenants/trial-co/resume"))).status).toBe(202);
    await converged("trial-co", "active");
    expect((await admin(api().delete("/admin/tenants/trial-co"))).status).toBe(202);
    await converged("trial-co", "deleted");
    expect((await admin(api().post("/admin/tenants/trial-co/resume"))).status).toBe(409);
  });

  it.each([
    ["an unknown tenant", () => admin(api().get("/admin/tenants/nobody")), 404],
    [
      "a reserved id",
      () =>
        admin(api().post("/admin/tenants")).send({
          tenantId: "admin",
          customerId: "c",
          plan: "trial",
          odooVersion: "17",
          adminEmail: "a@b.co",
        }),
      422,
    ],
    [
      "an unknown version",
      () =>
        admin(api().post("/admin/tenants")).send({
          tenantId: "v12-co",
          customerId: "c",
          plan: "trial",
          odooVersion: "12",
          adminEmail: "a@b.co",
        }),
      422,
    ],
    [
      "an unknown operation",
      () => admin(api().get("/admin/operations/00000000-0000-4000-8000-000000000000")),
      404,
    ],
    ["an unknown endpoint", () => admin(api().get("/admin/nothing-here")), 404],
  ])("answers %s with a clear 4xx", async (_name, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({
      code: expect.any(String),
      message: expect.any(String),
      requestId: expect.any(String),
    });
  });

  it("lists the tenants Prometheus probes: active ones at their desired state, behind a token", async () => {
    expect((await api().get("/monitoring/tenant-targets")).status).toBe(401);
    const targets = async () =>
      (await admin(api().get("/monitoring/tenant-targets"))).body as {
        targets: string[];
        labels: { tenant: string };
      }[];
    expect(
      (
        await admin(api().post("/admin/tenants")).send({
          tenantId: "probe-co",
          customerId: "c-probe",
          plan: "trial",
          odooVersion: "17",
          adminEmail: "o@probe.example",
        })
      ).status,
    ).toBe(202);
    await converged("probe-co", "active");
    expect((await targets()).find((t) => t.labels.tenant === "probe-co")).toEqual({
      targets: ["https://probe-co.odoo.test/web/health"],
      labels: { tenant: "probe-co" },
    });
    expect((await admin(api().post("/admin/tenants/probe-co/suspend"))).status).toBe(202);
    await converged("probe-co", "suspended");
    expect((await targets()).map((t) => t.labels.tenant)).not.toContain("probe-co");
  });

  it("refuses heartbeats where no monitoring is watched (no MONITORING_SILENCE_SECONDS), saying so", async () => {
    const r = await admin(api().post("/monitoring/heartbeat"));
    expect([r.status, r.body.error]).toEqual([
      404,
      expect.stringContaining("MONITORING_SILENCE_SECONDS"),
    ]);
  });

  it("serves health, readiness, metrics and the OpenAPI document", async () => {
    expect((await api().get("/healthz")).body).toEqual({ status: "ok" });
    const ready = await api().get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: "ok", redis: "ok", pulumi: "ok" });
    const metrics = (await api().get("/metrics")).text;
    expect(metrics).toMatch(
      /odoo_saas_webhooks_total\{event_type="SUBSCRIPTION_CREATION",result="stored"\} \d+/,
    );
    expect(metrics).toMatch(/odoo_saas_operations_total\{type="up",result="succeeded"\} \d+/);
    expect(metrics).toContain("odoo_saas_operation_duration_seconds_bucket");
    expect(metrics).toMatch(/odoo_saas_provisioning_seconds_count [1-9]/);
    expect(metrics).toContain("odoo_saas_queue_depth");
    // Instances by the status the engine reports (the provider-free program has no runtime).
    expect(metrics).toMatch(/odoo_saas_instances\{status="running"\} \d+/);
    expect(metrics).toMatch(/odoo_saas_instances\{status="terminated"\} [1-9]/); // bye-co
    expect(metrics).toMatch(/odoo_saas_webhooks_total\{event_type="OTHER",result="stored"\} [1-9]/); // SOME_FUTURE_EVENT
    const doc = (await api().get("/openapi.json")).body;
    expect(doc.openapi).toBe("3.0.3");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/webhooks/killbill/{secret}",
        "/admin/tenants/{id}/preview",
        "/admin/operations/{id}/events",
        "/admin/tenants/{id}/backups",
        "/admin/tenants/{id}/restore",
        "/admin/tenants/{id}/export",
      ]),
    );
  });

  it("schedules nightly backups, grace periods, backup retention, the repository check and the restore drill as BullMQ job schedulers", async () => {
    const schedulers = await h.runtime.queues.maintenance.getJobSchedulers();
    const byKey = Object.fromEntries(schedulers.map((s) => [s.key, s]));
    expect(byKey["nightly-backups"]).toMatchObject({ pattern: "0 2 * * *", tz: "UTC" });
    expect(byKey["grace-periods"]).toMatchObject({ pattern: "15 * * * *" });
    expect(byKey["backup-retention"]).toMatchObject({ pattern: "0 6 * * *" });
    expect(byKey["repository-check"]).toMatchObject({ pattern: "0 5 * * 0" });
    expect(byKey["restore-drills"]).toMatchObject({ pattern: "30 5 * * *" });
    expect(byKey["usage-metering"]).toMatchObject({ pattern: "20 */6 * * *" });
    // Tonight's run: one delayed backup per running tenant, at its own offset in the window.
    await h.runtime.queues.maintenance.add("nightly-backups", { task: "nightly-backups" });
    const running = (await admin(api().get("/admin/tenants?limit=500"))).body.tenants
      .filter((t: any) => t.desiredState === "active" && t.observedState === "active")
      .map((t: any) => t.id)
      .sort();
    const delayed = await eventually(async () => {
      const jobs = await h.runtime.queues.tenantOps.getDelayed();
      return jobs.length >= running.length && jobs;
    });
    const day = new Date().toISOString().slice(0, 10);
    expect(delayed.map((j) => j.id).sort()).toEqual(
      running.map((id: string) => `scheduled-${id}-${day}`),
    );
    for (const j of delayed) expect(j.opts.delay).toBeLessThan(120 * 60_000);
    expect(new Set(delayed.map((j) => j.opts.delay)).size).toBe(delayed.length);
  });
});
