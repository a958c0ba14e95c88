// Money against a real Kill Bill (0.22.26) whose test clock moves: trials ending, invoices paid by
// bank transfer or not at all, failed collections, the overdue policy's warning and suspension,
// cancellation at the end of term, one trial per customer, plan changes. Kill Bill's clock is
// global to its server, so this suite runs a Kill Bill server of its own (port 8095), restarted on
// an empty database each time (what earlier runs left would bill as the clock moves). The API
// runs for real (PostgreSQL, Redis, SMTP, the provider-free tenant program on the engine); our
// own clock follows Kill Bill's. Last, usage metered and billed: a tenant's users and storage
// read from a database of its own, recorded day by day, and the invoices Kill Bill makes of them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import request from "supertest";
import { loadCatalog, usageCharge, usageSectionName, type UsageUnit } from "../catalog";
import { KillBillClient, KillBillError } from "../api/killbill/client";
import { isAlreadyRecorded, type UsageProbe } from "../api/services/usage-meter";
import { ADMIN_TOKEN, ApiHarness, WEBHOOK_SECRET, eventually } from "./api-harness";
import { RealKillBill } from "./killbill-server";
import { PROVIDER_FREE } from "./stand-ins";

let kb: RealKillBill;
let h: ApiHarness;
let clock = new Date();
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const api = () => request(h.runtime.url!);
const tenant = async (id: string) => (await api().get(`/admin/tenants/${id}`).set(auth)).body;
/** Waits until the tenant runs as `state` with billing status `status`. */
const settled = (id: string, state: string, status: string) =>
  eventually(
    async () => {
      const t = await tenant(id);
      return t.converged && t.observedState === state && t.billing?.status === status && t;
    },
    90000,
    `${id} ${state} and ${status}`,
  );
const mailsTo = (address: string) => h.smtp.messages.filter((m) => m.to.includes(address));
/** The first mail to `address` whose subject matches; its body (soft line breaks undone) as `text`. */
const mailed = async (address: string, subject: RegExp) => {
  const m = await eventually(
    async () => mailsTo(address).find((x) => subject.test(x.subject)),
    60000,
    `mail to ${address} matching ${subject}`,
  );
  return { ...m, text: m.raw.replace(/=\r?\n/g, "").replace(/\r?\n/g, " ") };
};
const transitions = async (id: string) =>
  (await api().get(`/admin/tenants/${id}/billing-transitions`).set(auth)).body as {
    from: string | null;
    to: string;
    cause: string;
  }[];
/** Kill Bill's clock (ours follows it, except where the usage tests run ahead of it). */
let kbClock = new Date();
const moveClock = async (days: number) => {
  clock = kbClock = await kb.moveClock(days);
};
/** Moves Kill Bill's clock on to the start (00:00 UTC) of `day`'s date, or past it. */
const moveClockTo = (day: Date) =>
  moveClock(
    Math.round((day.getTime() - Date.parse(kbClock.toISOString().slice(0, 10))) / 86_400_000),
  );

const OWN_SERVER = { port: 8095, dbPort: 5498, dir: "/var/lib/odoo-saas-killbill-clock" };

/**
 * The metered tenant's data: a database on the local PostgreSQL with Odoo's `res_users` columns
 * and a filestore directory. The probe reads them as the backup agent's `measure` does in a
 * tenant's own database and volume (that path runs for real in test/backup.test.ts); the other
 * tenants here are provider-free, with nothing to measure.
 */
const METERED = "metered-co";
const usageDatabase = `kb_usage_${process.pid}`;
const filestore = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-kb-usage-"));
let usageDb: Client;
const tenantDataProbe: UsageProbe = {
  async measure(tenantId) {
    if (tenantId !== METERED) throw new Error(`${tenantId} is provider-free: no database`);
    const users = await usageDb.query(
      "SELECT count(*)::int AS n FROM res_users WHERE active AND NOT share",
    );
    const size = await usageDb.query("SELECT pg_database_size(current_database())::bigint AS b");
    const files = fs
      .readdirSync(filestore)
      .reduce((sum, f) => sum + fs.statSync(path.join(filestore, f)).size, 0);
    return {
      users: users.rows[0].n,
      databaseBytes: Number(size.rows[0].b),
      filestoreBytes: files,
      storageBlocked: false,
    };
  },
};

beforeAll(async () => {
  kb = await RealKillBill.start({ ...OWN_SERVER, fresh: true });
  const admin = new Client("postgres://odoo_saas:odoo_saas@127.0.0.1:5432/odoo_saas");
  await admin.connect();
  await admin.query(`CREATE DATABASE ${usageDatabase}`);
  await admin.end();
  usageDb = new Client(`postgres://odoo_saas:odoo_saas@127.0.0.1:5432/${usageDatabase}`);
  await usageDb.connect();
  await usageDb.query(`CREATE TABLE res_users (id serial PRIMARY KEY, login varchar UNIQUE NOT NULL,
    active boolean NOT NULL DEFAULT true, share boolean NOT NULL DEFAULT false)`);
  h = new ApiHarness({ killbill: kb, now: () => clock, usageProbe: tenantDataProbe });
  await h.start({ workers: true });
  await kb.registerCallback(`${h.runtime.url}/webhooks/killbill/${WEBHOOK_SECRET}`);
  clock = kbClock = await kb.resetClock();
}, 180000);

afterAll(async () => {
  await h?.stop();
  await usageDb?.end();
  const admin = new Client("postgres://odoo_saas:odoo_saas@127.0.0.1:5432/odoo_saas");
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${usageDatabase} WITH (FORCE)`);
  await admin.end();
  fs.rmSync(filestore, { recursive: true, force: true });
  RealKillBill.stop(OWN_SERVER); // the next run starts it on an empty database anyway
});

describe(`billing status follows a real Kill Bill through time ${PROVIDER_FREE}`, () => {
  // Day 0 customers, each taken through the clock moves below.
  let bank: string; // pays by bank transfer (AUTO_PAY_OFF): invoices wait for a payment
  let prompt: string; // the same, pays as soon as the trial ends
  let card: string; // no payment method: Kill Bill's collection fails
  let leaving: { account: string; subscriptionId: string };

  it("day 0: trials start (billingStatus trial), a paid plan starts paid", async () => {
    bank = await kb.createAccount(
      { name: "Bank", externalKey: "bank-corp", email: "o@bank.example" },
      { paymentMethod: false },
    );
    await kb.autoPayOff(bank);
    await kb.subscribe(bank, "odoo-basic-monthly", "bank-co");
    prompt = await kb.createAccount(
      { name: "Prompt", externalKey: "prompt-corp", email: "o@prompt.example" },
      { paymentMethod: false },
    );
    await kb.autoPayOff(prompt);
    await kb.subscribe(prompt, "odoo-basic-monthly", "prompt-co");
    card = await kb.createAccount(
      { name: "Card", externalKey: "card-corp", email: "o@card.example" },
      { paymentMethod: false },
    );
    await kb.subscribe(card, "odoo-basic-monthly", "card-co");
    const leavingAccount = await kb.createAccount({
      name: "Leaving",
      externalKey: "leaving-corp",
      email: "o@leaving.example",
    });
    const s = await kb.subscribe(leavingAccount, "odoo-premium-monthly", "leaving-co");
    leaving = { account: leavingAccount, subscriptionId: s.subscriptionId };

    for (const id of ["bank-co", "prompt-co", "card-co"]) await settled(id, "active", "trial");
    await settled("leaving-co", "active", "paid"); // no trial on premium; the card paid at once
    expect(await transitions("bank-co")).toEqual([
      {
        from: null,
        to: "trial",
        cause: expect.stringMatching(/^[A-Z_]+ \(webhook \d+\)$/),
        at: expect.any(String),
      },
    ]);
  });

  it("a cancellation at the end of term is recorded; the instance keeps running; the customer gets the date", async () => {
    await kb.cancelEndOfTerm(leaving.subscriptionId);
    const kbSub = await kb.subscription(leaving.subscriptionId);
    expect(kbSub).toMatchObject({ state: "ACTIVE", cancelledDate: expect.any(String) });
    const t = await eventually(
      async () => {
        const v = await tenant("leaving-co");
        return v.billing.endsOn && v;
      },
      60000,
      "end date recorded",
    );
    expect(t).toMatchObject({
      desiredState: "active",
      status: "running",
      billing: { status: "paid", endsOn: kbSub.cancelledDate },
    });
    const mail = await mailed("o@leaving.example", /ends on/);
    expect(mail.text).toContain(kbSub.cancelledDate!);
  });

  it("one trial per customer: a second trial starts paid, a second trial-only plan is refused, both told", async () => {
    const again = await kb.createAccount({
      name: "Again",
      externalKey: "again-corp",
      email: "o@again.example",
    });
    await kb.subscribe(again, "odoo-trial", "again-one");
    await settled("again-one", "active", "trial");
    const second = await kb.subscribe(again, "odoo-basic-monthly", "again-two");
    // Converted in Kill Bill itself: the paid phase, invoiced and paid by the card at once.
    await eventually(
      async () => (await kb.subscription(second.subscriptionId)).phaseType === "EVERGREEN",
    );
    await settled("again-two", "active", "paid");
    await mailed("o@again.example", /again-two starts on a paid plan/);
    const third = await kb.subscribe(again, "odoo-trial", "again-three");
    await eventually(
      async () => (await kb.subscription(third.subscriptionId)).state === "CANCELLED",
    );
    await mailed("o@again.example", /free trial has already been used/);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await api().get("/admin/tenants/again-three").set(auth)).status).toBe(404);
  });

  it("plan upgrade and downgrade change the tenant's plan, the customer is told each time", async () => {
    const mover = await kb.createAccount({
      name: "Mover",
      externalKey: "mover-corp",
      email: "o@mover.example",
    });
    const s = await kb.subscribe(mover, "odoo-basic-monthly", "mover-co");
    await settled("mover-co", "active", "trial");
    await kb.changePlan(s.subscriptionId, "odoo-standard-monthly");
    await eventually(async () => {
      const t = await tenant("mover-co");
      return t.plan === "standard" && t.converged && t;
    });
    await mailed("o@mover.example", /now runs on the Standard plan/);
    await kb.changePlan(s.subscriptionId, "odoo-basic-monthly");
    await eventually(async () => {
      const t = await tenant("mover-co");
      return t.plan === "basic" && t.converged && t;
    });
    await mailed("o@mover.example", /now runs on the Basic plan/);
  });

  let future: string; // a subscription dated day 10, of a customer whose trial is used
  it("a subscription dated in the future runs nothing, claims nothing and writes nothing until its day", async () => {
    const later = await kb.createAccount({
      name: "Later",
      externalKey: "later-corp",
      email: "o@later.example",
    });
    await kb.subscribe(later, "odoo-basic-monthly", "later-one");
    await settled("later-one", "active", "trial");
    const day = new Date(clock.getTime() + 10 * 86_400_000).toISOString().slice(0, 10);
    const res = await kb.call(
      "POST",
      `/1.0/kb/subscriptions?entitlementDate=${day}&billingDate=${day}`,
      { accountId: later, planName: "odoo-basic-monthly", bundleExternalKey: "later-two" },
    );
    future = res.headers.get("location")!.split("/").pop()!;
    expect(await kb.subscription(future)).toMatchObject({ state: "PENDING", phaseType: "TRIAL" });
    await eventually(
      async () =>
        (
          await h.runtime.pool.query(
            "SELECT 1 FROM webhook_inbox WHERE account_id = $1 AND result LIKE $2",
            [later, `%not started: subscription ${future}%`],
          )
        ).rows.length > 0,
    );
    expect((await api().get("/admin/tenants/later-two").set(auth)).status).toBe(404);
  });

  it("day 15: trials end — invoice open (payment_required), a failed collection suspends at once", async () => {
    await moveClock(15);
    const bankView = await settled("bank-co", "active", "payment_required");
    expect(bankView.status).toBe("running");
    const due = await mailed("o@bank.example", /Payment due/);
    expect(due.text).toMatch(/trial of bank-co has ended.*27\.00 EUR is due/s);
    await settled("prompt-co", "active", "payment_required");

    const cardView = await settled("card-co", "suspended", "suspended");
    expect(cardView.suspendReason).toBe("payment_failed");
    expect((await mailed("o@card.example", /is suspended/)).text).toContain("a payment failed");
  });

  it("the future-dated subscription started on its day: then the trial policy applied (started paid)", async () => {
    await eventually(async () => (await kb.subscription(future)).phaseType === "EVERGREEN", 90000);
    await settled("later-two", "active", "paid");
    await mailed("o@later.example", /later-two starts on a paid plan/);
  });

  it("a payment recorded -> paid, the customer thanked; a failed collection paid later -> resumed", async () => {
    await kb.payAll(prompt);
    await settled("prompt-co", "active", "paid");
    await mailed("o@prompt.example", /Payment received/);

    await kb.addPaymentMethod(card);
    await kb.payAll(card);
    await settled("card-co", "active", "paid");
    await mailed("o@card.example", /running again/);
    // The invoice's creation and its failed collection are separate events: either may be read
    // first, so payment_required can show for a moment before the suspension.
    expect((await transitions("card-co")).map((t) => t.to).join(" ")).toMatch(
      /^trial (payment_required )?suspended paid$/,
    );
  });

  it("no payment: the overdue warning (instance runs), then suspension, then payment resumes", async () => {
    await moveClock(3);
    const warned = await settled("bank-co", "active", "overdue");
    expect(warned.status).toBe("running");
    expect((await mailed("o@bank.example", /Overdue invoice/)).text).toMatch(/within 11 days/);

    await moveClock(11);
    const suspended = await settled("bank-co", "suspended", "suspended");
    expect(suspended.suspendReason).toBe("overdue");
    expect((await mailed("o@bank.example", /is suspended/)).text).toContain("unpaid balance");

    await kb.payAll(bank);
    await settled("bank-co", "active", "paid");
    await mailed("o@bank.example", /running again/);
    const history = await transitions("bank-co");
    expect(history.map((t) => t.to)).toEqual([
      "trial",
      "payment_required",
      "overdue",
      "suspended",
      "paid",
    ]);
    expect(history.every((t) => /webhook|resync/.test(t.cause))).toBe(true);
    const metrics = (await api().get("/metrics")).text;
    expect(metrics).toMatch(/odoo_saas_billing_status\{status="paid"\} [1-9]/);
  });

  it("at the end of term: terminated, the customer told how to get the data; reactivation: same instance, no new trial", async () => {
    const endsOn = (await tenant("leaving-co")).billing.endsOn as string;
    await moveClock(Math.ceil((Date.parse(endsOn) - clock.getTime()) / 86_400_000) + 1);
    const before = await settled("leaving-co", "terminated", "ended");
    expect((await mailed("o@leaving.example", /has been stopped/)).text).toContain("export");
    const back = await kb.subscribe(leaving.account, "odoo-basic-monthly", "leaving-co");
    await eventually(
      async () => (await kb.subscription(back.subscriptionId)).phaseType === "EVERGREEN",
    );
    const t = await settled("leaving-co", "active", "paid");
    expect(t.billing.subscriptionId).toBe(back.subscriptionId);
    expect(t.customerId).toBe(before.customerId);
    await mailed("o@leaving.example", /is back/);
    await mailed("o@leaving.example", /leaving-co starts on a paid plan/);
  });
});

describe(`usage metered and billed through a real Kill Bill ${PROVIDER_FREE}`, () => {
  const catalog = loadCatalog();
  const DAY = 86_400_000;
  const isoDay = (d: Date | number) => new Date(d).toISOString().slice(0, 10);
  let account: string;
  let subscriptionId: string;
  let periodStart: Date;
  let periodEnd: Date;
  /** What the tenant's database had at each measured day (the test's own record). */
  const had = new Map<string, { users: number; storageGb: number }>();

  /** The tenant's state on a day: `users` internal users, storage to `gb` GB once rounded up. */
  const makeState = async (users: number, gb: number) => {
    await usageDb.query("DELETE FROM res_users");
    for (let i = 0; i < users; i++)
      await usageDb.query("INSERT INTO res_users (login) VALUES ($1)", [`user-${i}`]);
    await usageDb.query(
      "INSERT INTO res_users (login, share) VALUES ('portal', true); INSERT INTO res_users (login, active) VALUES ('archived', false)",
    );
    // What the filestore holds: half a GB under `gb` with the database (a few MB).
    fs.writeFileSync(path.join(filestore, "data"), "");
    fs.truncateSync(path.join(filestore, "data"), Math.round((gb - 0.5) * 1e9));
  };
  const usage = async (from: string, to: string) =>
    (await api().get(`/admin/tenants/${METERED}/usage?from=${from}&to=${to}`).set(auth).expect(200))
      .body as {
      days: { day: string; unit: UsageUnit; amount: number; status: string; plan: string }[];
    };
  /** A metering run with our clock at `at`; resolves once `day` has been measured then. */
  const meterAt = async (at: Date, day = isoDay(at)) => {
    clock = at;
    await api().post("/admin/usage-metering").set(auth).expect(202);
    await eventually(
      async () =>
        (
          await pool().query(
            `SELECT 1 FROM usage_measurements WHERE tenant_id = $1 AND measured_at = $2 AND error IS NULL`,
            [METERED, at],
          )
        ).rowCount === 1,
      30_000,
      `${METERED} measured at ${at.toISOString()} for ${day}`,
    );
  };
  /** Every closed day of the tenant recorded in Kill Bill (a run with our clock at `at`). */
  const recordedBy = async (at: Date) => {
    clock = at;
    await api().post("/admin/usage-metering").set(auth).expect(202);
    await eventually(
      async () =>
        (
          await pool().query(
            `SELECT 1 FROM usage_days WHERE tenant_id = $1 AND status = 'measured' AND day < $2`,
            [METERED, isoDay(at)],
          )
        ).rowCount === 0,
      30_000,
      "the closed days recorded",
    );
  };
  const pool = () => h.runtime.pool;
  type Item = {
    itemType: string;
    usageName?: string;
    startDate: string;
    endDate: string;
    amount: number;
  };
  const usageLines = (items: Item[]) =>
    items
      .filter((i) => i.itemType === "USAGE")
      .map((i) => ({ usage: i.usageName, from: i.startDate, to: i.endDate, amount: i.amount }))
      .sort((a, b) => `${a.from}${a.usage}`.localeCompare(`${b.from}${b.usage}`));
  const dryRun = async (targetDate: string) => {
    const res = await kb.call(
      "POST",
      `/1.0/kb/invoices/dryRun?accountId=${account}&targetDate=${targetDate}`,
      { dryRunType: "TARGET_DATE" },
    );
    return res.status === 204 ? [] : ((await res.json()) as { items: Item[] }).items;
  };
  /** The lines a plan's usage sections imply for a period, from the days measured in it. */
  const expectedLines = (plan: string, from: string, to: string) => {
    const p = catalog.plan(plan)!;
    return (["users", "storageGb"] as const).map((unit) => {
      const peaks = [...had.entries()].filter(([d]) => d >= from && d < to).map(([, v]) => v[unit]);
      return {
        usage: usageSectionName(p.killbill.plans[0], unit),
        from,
        to,
        amount: usageCharge(p.usage![unit], Math.max(...peaks), "EUR"),
      };
    });
  };

  it("a tenant growing from 2 to 12 users and 1 to 3 GB over a period: the invoice bills the tiers its peaks reach", async () => {
    account = await kb.createAccount({
      name: "Metered",
      externalKey: "metered-corp",
      email: "o@metered.example",
    });
    ({ subscriptionId } = await kb.subscribe(account, "odoo-basic-monthly", METERED));
    await settled(METERED, "active", "trial");
    await moveClock(14); // the trial ends: usage is billed from the paid phase on
    const sub = (await (
      await kb.call("GET", `/1.0/kb/subscriptions/${subscriptionId}`)
    ).json()) as {
      chargedThroughDate: string;
      billingStartDate: string;
    };
    periodEnd = new Date(`${sub.chargedThroughDate}T00:00:00Z`);
    periodStart = new Date(`${isoDay(clock)}T00:00:00Z`);
    // Ten measured days, every third, the tenant growing (our clock ahead of Kill Bill's).
    for (let i = 0; i < 10; i++) {
      const day = new Date(periodStart.getTime() + 3 * i * DAY);
      const state = { users: 2 + Math.round((10 * i) / 9), storageGb: 1 + Math.floor((2 * i) / 9) };
      await makeState(state.users, state.storageGb);
      await meterAt(new Date(day.getTime() + 6 * 3600_000));
      had.set(isoDay(day), state);
    }
    await recordedBy(new Date(periodEnd.getTime() + 3600_000));
    const { days } = await usage(isoDay(periodStart), isoDay(periodEnd.getTime() - DAY));
    // Each day as the database had it, recorded once.
    expect(days.map((d) => [d.day, d.unit, d.amount, d.status])).toEqual(
      [...had.entries()].flatMap(([day, v]) => [
        [day, "storageGb", v.storageGb, "recorded"],
        [day, "users", v.users, "recorded"],
      ]),
    );
    const expected = expectedLines("basic", isoDay(periodStart), isoDay(periodEnd));
    expect(expected.map((l) => l.amount)).toEqual([70, 5]); // 12 users: up to 25; 3 GB: up to 5
    const dry = usageLines(await dryRun(isoDay(periodEnd)));
    expect(dry).toEqual(expected);
    // The period ends: the invoice has the same lines as the dry run.
    await moveClockTo(periodEnd);
    const invoices = (await (
      await kb.call("GET", `/1.0/kb/accounts/${account}/invoices?withItems=true`)
    ).json()) as { items: Item[] }[];
    expect(invoices.flatMap((i) => usageLines(i.items))).toEqual(expected);
  });

  it("a replayed day changes nothing: not sent again, and Kill Bill refuses its tracking id", async () => {
    const before = await usage(isoDay(periodStart), isoDay(periodEnd));
    await recordedBy(new Date(periodEnd.getTime() + 2 * 3600_000));
    expect(await usage(isoDay(periodStart), isoDay(periodEnd))).toEqual(before);
    const day = isoDay(periodStart);
    const replay = new KillBillClient({ ...kb, timeoutMs: 10_000 }).recordUsage({
      subscriptionId,
      trackingId: `${METERED}:users:${day}`,
      unit: "internal-users",
      day,
      amount: 99,
    });
    const refused = await replay.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused).toBeInstanceOf(KillBillError);
    // What the meter takes for "Kill Bill has it already" (a lost answer) is what Kill Bill says.
    expect(isAlreadyRecorded(refused!)).toBe(true);
    const next = isoDay(periodEnd.getTime() + 31 * DAY);
    expect(usageLines(await dryRun(next)).filter((l) => l.from < isoDay(periodEnd))).toEqual([]);
  });

  it("a day sent late within Kill Bill's window: the next invoice corrects the closed period", async () => {
    // What an outage leaves: a day of the closed period measured but never recorded, its peak
    // above every other (26 users: the unbounded tier).
    const late = isoDay(periodStart.getTime() + DAY);
    await pool().query(
      `INSERT INTO usage_days (tenant_id, unit, day, amount, plan, last_measured_at)
       VALUES ($1, 'users', $2, 26, 'basic', $3), ($1, 'storageGb', $2, 1, 'basic', $3)`,
      [METERED, late, new Date(`${late}T06:20:00Z`)],
    );
    had.set(late, { users: 26, storageGb: 1 });
    await recordedBy(new Date(periodEnd.getTime() + 3 * 3600_000));
    const [billed, corrected] = expectedLines("basic", isoDay(periodStart), isoDay(periodEnd));
    expect(corrected.amount).toBe(5);
    expect(billed.amount).toBe(140);
    const lines = usageLines(await dryRun(isoDay(periodEnd.getTime() + 31 * DAY)));
    // Kill Bill bills the difference to what the period's invoice had (70 for 12 users).
    expect(lines.filter((l) => l.from < isoDay(periodEnd))).toEqual([
      { ...billed, amount: 140 - 70 },
    ]);
  });

  it("corrections: a recorded day is Kill Bill's (409); bad input is named (422); an unknown tenant 404", async () => {
    const correct = (tenant: string, day: string, body: object) =>
      api().post(`/admin/tenants/${tenant}/usage/${day}`).set(auth).send(body);
    const day = isoDay(periodStart);
    const recorded = await correct(METERED, day, { unit: "users", amount: 3, reason: "ops: typo" });
    expect([recorded.status, recorded.body.error.message]).toEqual([
      409,
      `users of ${METERED} on ${day} is recorded in Kill Bill (${METERED}:users:${day}): adjust the invoice there`,
    ]);
    for (const [d, body, field] of [
      ["2027-02-30", { unit: "users", amount: 3, reason: "ops" }, "day"],
      [day, { unit: "seats", amount: 3, reason: "ops" }, "unit"],
      [day, { unit: "users", amount: -1, reason: "ops" }, "amount"],
      [day, { unit: "users", amount: 3 }, "reason"],
    ] as const) {
      const res = await correct(METERED, d, body);
      expect([res.status, JSON.stringify(res.body)]).toEqual([422, expect.stringContaining(field)]);
    }
    expect(
      (await correct("nobody-co", day, { unit: "users", amount: 1, reason: "ops" })).status,
    ).toBe(404);
    expect(
      (await api().get(`/admin/tenants/${METERED}/usage?from=yesterday`).set(auth)).status,
    ).toBe(422);
  });

  it("a day older than the window is never sent: kept as too late, alerted, absent from Kill Bill", async () => {
    const old = isoDay(periodEnd.getTime() - 95 * DAY);
    await pool().query(
      `INSERT INTO usage_days (tenant_id, unit, day, amount, plan, last_measured_at)
       VALUES ($1, 'users', $2, 30, 'basic', $3)`,
      [METERED, old, new Date(`${old}T06:20:00Z`)],
    );
    await recordedBy(new Date(periodEnd.getTime() + 4 * 3600_000));
    const [day] = (await usage(old, old)).days;
    expect([day.status, day.amount]).toEqual(["outside_window", 30]);
    const metrics = (await api().get("/metrics")).text;
    expect(metrics).toContain(`odoo_saas_tenant_usage_days_unrecorded{tenant="${METERED}"} 1`);
    const recorded = (await (
      await kb.call(
        "GET",
        `/1.0/kb/usages/${subscriptionId}?unitType=internal-users&startDate=${old}&endDate=${isoDay(Date.parse(old) + DAY)}`,
      )
    ).json()) as { rolledUpUnits?: { amount: number }[] };
    expect((recorded.rolledUpUnits ?? []).every((u) => !u.amount)).toBe(true);
  });

  it("a plan change mid-period: the days before bill by the old plan's tiers, the days after by the new one's", async () => {
    const sub = (await (
      await kb.call("GET", `/1.0/kb/subscriptions/${subscriptionId}`)
    ).json()) as {
      chargedThroughDate: string;
    };
    const start = periodEnd;
    const end = new Date(`${sub.chargedThroughDate}T00:00:00Z`);
    had.clear();
    // The period's first day was measured by the runs above (12 users, 3 GB then).
    had.set(isoDay(start), { users: 12, storageGb: 3 });
    for (const offset of [1, 4]) {
      await makeState(12, 3);
      await meterAt(new Date(start.getTime() + offset * DAY + 6 * 3600_000));
      had.set(isoDay(start.getTime() + offset * DAY), { users: 12, storageGb: 3 });
    }
    await moveClockTo(new Date(start.getTime() + 10 * DAY));
    const changed = new Date(`${isoDay(kbClock)}T00:00:00Z`);
    await kb.changePlan(subscriptionId, "odoo-standard-monthly");
    await eventually(
      async () => (await tenant(METERED)).plan === "standard",
      60_000,
      "on standard",
    );
    for (const offset of [2, 5]) {
      await makeState(14, 3);
      await meterAt(new Date(changed.getTime() + offset * DAY + 6 * 3600_000));
      had.set(isoDay(changed.getTime() + offset * DAY), { users: 14, storageGb: 3 });
    }
    await recordedBy(new Date(end.getTime() + 3600_000));
    const { days } = await usage(isoDay(start), isoDay(end.getTime() - DAY));
    expect(days.map((d) => [d.day, d.plan, d.status])).toEqual(
      [...had.keys()].flatMap((day) => {
        const plan = day < isoDay(changed) ? "basic" : "standard";
        return [
          [day, plan, "recorded"],
          [day, plan, "recorded"],
        ];
      }),
    );
    const expected = [
      ...expectedLines("basic", isoDay(start), isoDay(changed)),
      ...expectedLines("standard", isoDay(changed), isoDay(end)),
    ];
    expect(expected.map((l) => l.amount)).toEqual([70, 5, 56, 0]);
    // The old plan's days are billed on the change's invoice; the new plan's are in the dry run
    // of the period's end, then on its invoice: line by line, what the catalog implies.
    const invoiced = async () =>
      usageLines(
        (
          (await (
            await kb.call("GET", `/1.0/kb/accounts/${account}/invoices?withItems=true`)
          ).json()) as { items: Item[] }[]
        ).flatMap((i) => i.items),
      ).filter((l) => l.from >= isoDay(start));
    expect(await invoiced()).toEqual(expected.slice(0, 2));
    expect(usageLines(await dryRun(isoDay(end))).filter((l) => l.from >= isoDay(start))).toEqual(
      expected.slice(2),
    );
    await moveClockTo(end);
    expect(await invoiced()).toEqual(expected);
  });
});
