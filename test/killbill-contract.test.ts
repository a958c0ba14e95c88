// The Kill Bill stand-in (test/killbill-stand-in.ts) and a real Kill Bill 0.22.26 answer the
// API's client alike: one scenario, run against both, read through KillBillClient — the
// subscription, account, overdue state and open invoices it reads, and the trial policy's writes.
import { KillBillClient, type KillBillConnection } from "../api/killbill/client";
import { eventually } from "./api-harness";
import { KB_AUTH, KillBillStandIn } from "./killbill-stand-in";
import { RealKillBill } from "./killbill-server";

interface Driver {
  connection: KillBillConnection;
  /** An account (with a card on file) and one subscription in a bundle keyed `tenantId`. */
  subscribe(tenantId: string, customer: string, planName: string): Promise<string>;
}

const standIn = new KillBillStandIn();
let real: RealKillBill;
const drivers: Record<string, () => Driver> = {
  "stand-in": () => ({
    connection: { url: standIn.url, ...KB_AUTH },
    subscribe: async (tenantId, customer, planName) =>
      standIn.subscribe({
        tenantId,
        customer,
        email: `o@${customer}.example`,
        planName,
        // As the catalog makes Kill Bill start them (test below).
        phaseType:
          { "odoo-premium-monthly": "EVERGREEN", "odoo-trial": "FIXEDTERM" }[planName] ?? "TRIAL",
      }).subscriptionId,
  }),
  "real Kill Bill": () => ({
    connection: real,
    subscribe: async (tenantId, customer, planName) => {
      const account = await real.createAccount({
        name: customer,
        externalKey: `${customer}-${real.apiKey}`,
        email: `o@${customer}.example`,
      });
      return (await real.subscribe(account, planName, tenantId)).subscriptionId;
    },
  }),
};

beforeAll(async () => {
  await standIn.start();
  real = await RealKillBill.start();
  await real.registerCallback("http://127.0.0.1:9/unused");
}, 180000);
afterAll(() => standIn.stop());

describe.each(Object.keys(drivers))("KillBillClient against the %s", (name) => {
  let d: Driver;
  let kb: KillBillClient;
  beforeAll(() => {
    d = drivers[name]();
    kb = new KillBillClient(d.connection);
  });

  it("reads a subscription, its account, a clear overdue state and no open invoice", async () => {
    const id = await d.subscribe("contract-paid", "contract-a", "odoo-premium-monthly");
    const s = await kb.subscription(id);
    expect(s).toMatchObject({
      subscriptionId: id,
      bundleExternalKey: "contract-paid",
      planName: "odoo-premium-monthly",
      phaseType: "EVERGREEN",
      state: "ACTIVE",
    });
    const account = await kb.account(s!.accountId);
    expect(account).toMatchObject({ accountId: s!.accountId, email: "o@contract-a.example" });
    expect(await kb.overdueState(s!.accountId)).toEqual({
      name: "__KILLBILL__CLEAR__OVERDUE_STATE__",
      blocks: false,
    });
    // Paid by the card on file (the real one, asynchronously after invoicing: the payment is a bus
    // event of its own), or never invoiced (the stand-in).
    await eventually(
      async () => (await kb.unpaidInvoices(s!.accountId)).filter((i) => i.balance > 0).length === 0,
      20000,
      "the first invoice to be paid",
    );
    expect(await kb.subscription("00000000-0000-4000-8000-00000000dead")).toBeUndefined();
  });

  it("the trial policy's writes: a trial moved to its paid phase, a trial-only plan cancelled", async () => {
    const trial = await d.subscribe("contract-trial", "contract-b", "odoo-basic-monthly");
    expect((await kb.subscription(trial))!.phaseType).toBe("TRIAL");
    await kb.startPaidPhase(trial, "odoo-basic-monthly", "contract test");
    expect(await kb.subscription(trial)).toMatchObject({
      phaseType: "EVERGREEN",
      planName: "odoo-basic-monthly",
      state: "ACTIVE",
    });
    const only = await d.subscribe("contract-only", "contract-c", "odoo-trial");
    expect((await kb.subscription(only))!.phaseType).toBe("FIXEDTERM"); // a trial all the same
    await kb.cancelNow(only, "contract test");
    expect((await kb.subscription(only))!.state).toBe("CANCELLED");
  });
});
