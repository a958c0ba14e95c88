// Admission to the shared PostgreSQL server through the API (real PostgreSQL and Redis, the Kill
// Bill stand-in): every tenant on a shared plan reserves its plan's connection limit, and the
// server's max_connections (80 here) bounds their sum plus the platform's reserve of 20.
import request from "supertest";
import { ADMIN_TOKEN, ApiHarness, WEBHOOK_SECRET, eventually } from "./api-harness";
import { notification } from "./killbill-stand-in";
import { PROVIDER_FREE, KILL_BILL_STAND_IN } from "./stand-ins";

const h = new ApiHarness({ env: { SHARED_POSTGRES_MAX_CONNECTIONS: "80" } });
beforeAll(() => h.start({ workers: true }), 60000);
afterAll(() => h.stop());

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const create = (tenantId: string, plan: string) =>
  request(h.runtime.url!)
    .post("/admin/tenants")
    .set(auth)
    .send({ tenantId, customerId: `${tenantId}-corp`, plan, odooVersion: "18" });

describe(`shared PostgreSQL admission ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("admits shared tenants while their connection limits fit; refuses with the figures when not", async () => {
    expect((await create("cap-one", "basic")).status).toBe(202); // 20 + 16
    expect((await create("cap-two", "basic")).status).toBe(202); // 20 + 32
    const full = await create("cap-three", "standard"); // 20 + 32 + 42 > 80
    expect(full.status).toBe(409);
    expect(full.body.error.message).toBe(
      "the shared PostgreSQL server is full: max_connections 80, 32 reserved by its tenants and 20 by the platform; plan standard needs 42 (raise postgres.maxConnections or add a server)",
    );
    expect((await request(h.runtime.url!).get("/admin/tenants/cap-three").set(auth)).status).toBe(
      404,
    );
    // A dedicated plan has its own server; a plan change counts the tenant's new limit only.
    expect((await create("cap-own", "premium")).status).toBe(202);
    const resize = (plan: string) =>
      request(h.runtime.url!).post("/admin/tenants/cap-one/plan").set(auth).send({ plan });
    expect((await resize("standard")).status).toBe(202); // 20 + 16 + 42 = 78, not 94
  });

  it("a subscription that would overflow the server is a billing problem, not a tenant", async () => {
    const sub = h.killbill.subscribe({
      tenantId: "cap-billed",
      customer: "cap-billed-corp",
      email: "o@cap.example",
      planName: "odoo-standard-monthly",
    });
    await request(h.runtime.url!)
      .post(`/webhooks/killbill/${WEBHOOK_SECRET}`)
      .send(
        notification("SUBSCRIPTION_CREATION", "SUBSCRIPTION", sub.subscriptionId, sub.accountId),
      );
    const problem = await eventually(async () =>
      (await request(h.runtime.url!).get("/admin/billing/problems").set(auth)).body.find(
        (p: { subscriptionId: string }) => p.subscriptionId === sub.subscriptionId,
      ),
    );
    expect(problem.problem).toMatch(/shared PostgreSQL server is full/);
    expect((await request(h.runtime.url!).get("/admin/tenants/cap-billed").set(auth)).status).toBe(
      404,
    );
  });
});
