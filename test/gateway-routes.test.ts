// What tenants' gateways may ask of the real API (api/routes/gateway.ts): each presents its own
// tenant's token, whose hash the tenant's stack outputs; anything else is one 401. The gateway
// side: test/tenant-gateway.test.ts; the whole path: test/e2e/sleep-wake.ts.
import { createHash } from "node:crypto";
import request from "supertest";
import { ApiHarness, asAdmin } from "./api-harness";

const h = new ApiHarness();
const TOKEN = "the-gateway-token-of-gw-acme";
const api = () => request(h.runtime.url!);

beforeAll(async () => {
  await h.start({ workers: false });
  for (const id of ["gw-acme", "gw-other"]) {
    await h.runtime.pool.query(
      `INSERT INTO tenants (id, customer_id, spec, desired_state, source, observed_state,
         desired_generation, observed_generation, outputs, sleeping_since)
       VALUES ($1, 'c', '{"plan": "trial", "odooVersion": "17"}', 'active', 'admin', 'active', 1, 1,
         $2, now())`,
      [id, { gatewayTokenHash: createHash("sha256").update(`token-of-${id}`).digest("hex") }],
    );
  }
  await h.runtime.pool.query(`UPDATE tenants SET outputs = $1 WHERE id = 'gw-acme'`, [
    { gatewayTokenHash: createHash("sha256").update(TOKEN).digest("hex") },
  ]);
}, 60000);
afterAll(() => h.stop());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("the gateway routes", () => {
  it.each<[string, string, Record<string, string>]>([
    ["no token", "gw-acme", {}],
    ["a wrong token", "gw-acme", bearer("guessed")],
    ["another tenant's token", "gw-other", bearer(TOKEN)],
    ["a tenant that does not exist", "gw-nobody", bearer(TOKEN)],
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
    const woken = await api().post("/gateway/tenants/gw-acme/wake").set(bearer(TOKEN));
    expect([woken.status, woken.body]).toEqual([202, { woken: true }]);
    const again = await api().post("/gateway/tenants/gw-acme/wake").set(bearer(TOKEN));
    expect([again.status, again.body]).toEqual([200, { woken: false }]);
    const view = (await asAdmin(api().get("/admin/tenants/gw-acme"))).body;
    expect([view.sleepingSince, view.converged]).toEqual([null, false]);
  });

  it("reports of use: recorded (204); a malformed one is a 422, not a 500", async () => {
    const bad = await api()
      .post("/gateway/tenants/gw-acme/activity")
      .set(bearer(TOKEN))
      .send({ websockets: -1 });
    expect([bad.status, bad.body.error.code]).toEqual([422, "invalid"]);
    await api()
      .post("/gateway/tenants/gw-acme/activity")
      .set(bearer(TOKEN))
      .send({ websockets: 2 })
      .expect(204);
    const view = (await asAdmin(api().get("/admin/tenants/gw-acme"))).body;
    expect(Date.now() - Date.parse(view.lastActivityAt)).toBeLessThan(10_000);
  });
});
