// What Kill Bill does to the API during the soak, on the Kill Bill stand-in: tenants subscribe,
// change plans, go overdue and pay, some cancel; each change is made in "Kill Bill" first, then
// pushed as its event, one to three times, each copy up to 3 s late (so copies and events of one
// tenant arrive out of order), amid account-level events that change nothing. Seeded: one seed,
// one run.
import { notification, type KillBillStandIn } from "../killbill-stand-in";

/** A small seeded PRNG (mulberry32): the same seed gives the same traffic. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Delivery {
  /** Milliseconds from the start of the run. */
  at: number;
  tenantId: string;
  body: ReturnType<typeof notification>;
}

/** A change made in Kill Bill at `at`, then pushed: each of its events `copies` times. */
interface Change {
  at: number;
  tenantId: string;
  copies: number;
  /** How many events it pushes (a payment: the invoice's and the blocking state's). */
  events: number;
  apply(): Delivery["body"][];
}

export interface Expected {
  state: "active" | "suspended" | "terminated";
  plan: "basic" | "standard";
}

const PLANS = { basic: "odoo-basic-monthly", standard: "odoo-standard-monthly" } as const;

export class KillBillTraffic {
  private readonly changes: Change[] = [];
  private readonly noise: { at: number; tenantId: string }[] = [];
  private readonly accountOf = new Map<string, string>();
  private readonly subscriptionOf = new Map<string, string>();

  constructor(
    private readonly kb: KillBillStandIn,
    readonly o: {
      tenants: number;
      webhooks: number;
      seconds: number;
      seed: number;
      /** Changes per tenant after its subscription, at least and at most (default 2 to 4). */
      changes?: [number, number];
    },
  ) {
    const random = seeded(o.seed);
    this.random = random;
    const span = o.seconds * 1000;
    const created = new Map<string, number>();
    const change = (c: Omit<Change, "copies">) =>
      this.changes.push({ ...c, copies: 1 + Math.floor(random() * 3) });
    for (let i = 1; i <= o.tenants; i++) {
      const tenantId = `soak-${String(i).padStart(4, "0")}`;
      const createdAt = random() * span * 0.2;
      created.set(tenantId, createdAt);
      change({ at: createdAt, tenantId, events: 1, apply: () => this.subscribe(tenantId) });
      // A few changes later on, each one Kill Bill allows in the state it leaves.
      let state: "active" | "blocked" | "cancelled" = "active";
      const [least, most] = o.changes ?? [2, 4];
      const times = Array.from(
        { length: least + Math.floor(random() * (most - least + 1)) },
        () => createdAt + 5000 + random() * (span * 0.85 - createdAt - 5000),
      ).sort((a, b) => a - b);
      for (const at of times) {
        const dice = random();
        if (state === "cancelled") break;
        if (state === "blocked") {
          state = "active";
          change({ at, tenantId, events: 2, apply: () => this.pay(tenantId) });
        } else if (dice < 0.5) {
          change({ at, tenantId, events: 1, apply: () => this.changePlan(tenantId) });
        } else if (dice < 0.9) {
          state = "blocked";
          change({ at, tenantId, events: 1, apply: () => this.goOverdue(tenantId) });
        } else {
          state = "cancelled";
          change({ at, tenantId, events: 1, apply: () => this.cancel(tenantId) });
        }
      }
    }
    this.changes.sort((a, b) => a.at - b.at);
    // The rest, up to the number asked for: events about the accounts' invoices and tags that
    // change nothing, each after its account exists.
    const planned = this.changes.reduce((n, c) => n + c.copies * c.events, 0);
    const ids = [...created.keys()];
    for (let n = planned; n < o.webhooks; n++) {
      const tenantId = ids[Math.floor(random() * ids.length)];
      const from = created.get(tenantId)! + 1000;
      this.noise.push({ at: from + random() * (span - from), tenantId });
    }
  }

  private readonly random: () => number;

  /**
   * Runs the changes at their times and hands each delivery to `deliver` when it is due; resolves
   * when the last one has been handed over.
   */
  async run(deliver: (d: Delivery) => void, now: () => number): Promise<number> {
    const due: Delivery[] = [];
    let handed = 0;
    let c = 0;
    const noise = [...this.noise].sort((a, b) => a.at - b.at);
    let n = 0;
    while (c < this.changes.length || n < noise.length || due.length) {
      const t = now();
      while (c < this.changes.length && this.changes[c].at <= t) {
        const change = this.changes[c++];
        for (const body of change.apply())
          for (let copy = 0; copy < change.copies; copy++)
            due.push({ at: change.at + this.random() * 3000, tenantId: change.tenantId, body });
      }
      while (n < noise.length && noise[n].at <= t) {
        const { at, tenantId } = noise[n++];
        if (this.accountOf.has(tenantId))
          due.push({ at, tenantId, body: this.noiseEvent(tenantId) });
      }
      due.sort((a, b) => a.at - b.at);
      while (due.length && due[0].at <= t) {
        deliver(due.shift()!);
        handed++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return handed;
  }

  /** What the API should show for each tenant once everything is delivered: Kill Bill's state. */
  expected(): Map<string, Expected> {
    const out = new Map<string, Expected>();
    for (const [tenantId, id] of this.subscriptionOf) {
      const s = this.kb.subscriptions.get(id)!;
      out.set(tenantId, {
        state:
          s.state === "CANCELLED" ? "terminated" : s.state === "BLOCKED" ? "suspended" : "active",
        plan: s.planName === PLANS.standard ? "standard" : "basic",
      });
    }
    return out;
  }

  private sub(tenantId: string) {
    return this.kb.subscriptions.get(this.subscriptionOf.get(tenantId)!)!;
  }

  private subscriptionEvent(tenantId: string, eventType: string) {
    const s = this.sub(tenantId);
    return notification(eventType, "SUBSCRIPTION", s.subscriptionId, s.accountId, {
      actionType: "EFFECTIVE",
      bundleExternalKey: tenantId,
      subscriptionChangeUndo: false,
    });
  }

  private subscribe(tenantId: string) {
    const s = this.kb.subscribe({
      tenantId,
      customer: `cust-${tenantId}`,
      email: `o@${tenantId}.example`,
      planName: PLANS.basic,
    });
    this.accountOf.set(tenantId, s.accountId);
    this.subscriptionOf.set(tenantId, s.subscriptionId);
    return [this.subscriptionEvent(tenantId, "SUBSCRIPTION_CREATION")];
  }

  private changePlan(tenantId: string) {
    const s = this.sub(tenantId);
    s.planName = s.planName === PLANS.basic ? PLANS.standard : PLANS.basic;
    return [this.subscriptionEvent(tenantId, "SUBSCRIPTION_CHANGE")];
  }

  private goOverdue(tenantId: string) {
    const s = this.sub(tenantId);
    s.state = "BLOCKED";
    this.kb.overdue.set(s.accountId, {
      name: "SUSPENDED",
      isDisableEntitlementAndChangesBlocked: true,
    });
    return [notification("OVERDUE_CHANGE", "ACCOUNT", s.accountId, s.accountId)];
  }

  private pay(tenantId: string) {
    const s = this.sub(tenantId);
    s.state = "ACTIVE";
    this.kb.overdue.delete(s.accountId);
    const blocking = {
      service: "overdue-service",
      stateName: "__KILLBILL__CLEAR__OVERDUE_STATE__",
      blockingType: "ACCOUNT",
    };
    return [
      notification("INVOICE_PAYMENT_SUCCESS", "INVOICE", randomId(this.random), s.accountId),
      notification("BLOCKING_STATE", "ACCOUNT", s.accountId, s.accountId, blocking),
    ];
  }

  private cancel(tenantId: string) {
    this.sub(tenantId).state = "CANCELLED";
    return [this.subscriptionEvent(tenantId, "SUBSCRIPTION_CANCEL")];
  }

  private noiseEvent(tenantId: string) {
    const accountId = this.accountOf.get(tenantId)!;
    const type = this.random() < 0.5 ? "INVOICE_CREATION" : "TAG_CREATION";
    return notification(
      type,
      type === "TAG_CREATION" ? "TAG" : "INVOICE",
      randomId(this.random),
      accountId,
    );
  }
}

const randomId = (random: () => number) =>
  `30000000-0000-4000-8000-${Math.floor(random() * 1e12)
    .toString()
    .padStart(12, "0")}`;
