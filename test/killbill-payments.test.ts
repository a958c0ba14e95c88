// Money against a real Kill Bill (0.22.26) whose test clock moves: trials ending, invoices paid by
// bank transfer or not at all, failed collections, the overdue policy's warning and suspension,
// cancellation at the end of term, one trial per customer, plan changes. Kill Bill's clock is
// global to its server, so this suite runs a Kill Bill server of its own (port 8095), restarted on
// an empty database each time (what earlier runs left would bill as the clock moves). The API
// runs for real (PostgreSQL, Redis, SMTP, the provider-free tenant program on the engine); our
// own clock follows Kill Bill's.
import request from "supertest";
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
const moveClock = async (days: number) => {
  clock = await kb.moveClock(days);
};

const OWN_SERVER = { port: 8095, dbPort: 5498, dir: "/var/lib/odoo-saas-killbill-clock" };

beforeAll(async () => {
  kb = await RealKillBill.start({ ...OWN_SERVER, fresh: true });
  h = new ApiHarness({ killbill: kb, now: () => clock });
  await h.start({ workers: true });
  await kb.registerCallback(`${h.runtime.url}/webhooks/killbill/${WEBHOOK_SECRET}`);
  clock = await kb.resetClock();
}, 180000);

afterAll(async () => {
  await h?.stop();
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
