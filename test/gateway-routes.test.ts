// What tenants' gateways may ask of the real API (api/routes/gateway.ts): each presents its own
// tenant's token, whose hash the tenant's stack outputs; anything else is one 401. The gateway
// side: test/tenant-gateway.test.ts; the whole path: test/e2e/sleep-wake.ts.
import request from "supertest";
import { ApiHarness, asAdmin, gatewayAuth, sleepingTenant } from "./api-harness";

const h = new ApiHarness();
const api = () => request(h.runtime.url!);
const own = gatewayAuth("gw-acme");

beforeAll(async () => {
  await h.start({ workers: false });
  await sleepingTenant(h, "gw-acme");
  await sleepingTenant(h, "gw-other");
}, 60000);
afterAll(() => h.stop());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("the gateway routes", () => {
  it.each<[string, string, Record<string, string>]>([
    ["no token", "gw-acme", {}],
    ["a wrong token", "gw-acme", bearer("guessed")],
    ["another tenant's token", "gw-other", own],
    ["a tenant that does not exist", "gw-nobody", own],
    ["the admin token", "gw-acme", bearer("admin-token-0123456789abcdef")],
  ])("%s: 401, and nothing woken", async (_name, tenant, headers) => {
    const r = await api().post(`/gateway/tenants/${tenant}/wake`).set(headers);
    expect([r.status, r.body.error.code]).toEqual([401, "unauthorized"]);
    const asleep = await h.runtime.pool.query(
      "SELECT count(*)::int AS n FROM tenants WHERE sleeping_since IS NOT NULL",
    );
    expect(asleep.rows[0].n).toBe(2);
  });

  it("its own token wakes its tenant once: 202, then 200 as it is awake; the view says so", async () => {
    const sleeping = (await asAdmin(api().get("/admin/tenants/gw-acme"))).body;
    expect([sleeping.status, sleeping.sleepingSince !== null]).toEqual(["sleeping", true]);
    const woken = await api().post("/gateway/tenants/gw-acme/wake").set(own);
    expect([woken.status, woken.body]).toEqual([202, { woken: true }]);
    const again = await api().post("/gateway/tenants/gw-acme/wake").set(own);
    expect([again.status, again.body]).toEqual([200, { woken: false }]);
    const view = (await asAdmin(api().get("/admin/tenants/gw-acme"))).body;
    expect([view.sleepingSince, view.converged]).toEqual([null, false]);
  });

  it("reports of use: recorded (204); a malformed one is a 422, not a 500", async () => {
    const bad = await api()
      .post("/gateway/tenants/gw-acme/activity")
      .set(own)
      .send({ websockets: -1 });
    expect([bad.status, bad.body.error.code]).toEqual([422, "invalid"]);
    await api()
      .post("/gateway/tenants/gw-acme/activity")
      .set(own)
      .send({ websockets: 2 })
      .expect(204);
    const view = (await asAdmin(api().get("/admin/tenants/gw-acme"))).body;
    expect(Date.now() - Date.parse(view.lastActivityAt)).toBeLessThan(10_000);
  });
});
