// Secrets never reach the logs: a whole lifecycle through the API (a billed tenant and an
// operator's, suspend, resume, delete, refused and failing requests) with every log line captured,
// then searched for each secret the platform holds.
import request from "supertest";
import { loggablePath } from "../api/routes/http";
import { ADMIN_TOKEN, ApiHarness, WEBHOOK_SECRET } from "./api-harness";
import { KB_AUTH } from "./killbill-stand-in";
import { PROVIDER_FREE, KILL_BILL_STAND_IN } from "./stand-ins";

const lines: string[] = [];
let h: ApiHarness;
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const converged = (id: string, state: string) => h.converged(id, state);

beforeAll(async () => {
  h = new ApiHarness({ logTo: { write: (line) => void lines.push(line) } });
  await h.start();
});
afterAll(() => h?.stop());

describe(`secrets never logged ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("the webhook path is logged without its secret", () => {
    expect(loggablePath(`/webhooks/killbill/${WEBHOOK_SECRET}`)).toBe(
      "/webhooks/killbill/[secret]",
    );
    expect(loggablePath("/admin/tenants/acme")).toBe("/admin/tenants/acme");
  });

  it("no secret appears in the logs of a whole lifecycle", async () => {
    const api = () => request(h.runtime.url!);
    const sub = h.killbill.subscribe({
      tenantId: "secret-co",
      customer: "secret-corp",
      email: "o@secret.example",
      planName: "odoo-basic-monthly",
    });
    await api()
      .post(`/webhooks/killbill/${WEBHOOK_SECRET}`)
      .send({
        eventType: "SUBSCRIPTION_CREATION",
        objectType: "SUBSCRIPTION",
        objectId: sub.subscriptionId,
        accountId: sub.accountId,
        metaData: null,
      })
      .expect(200);
    await converged("secret-co", "active");
    await api()
      .post("/admin/tenants")
      .set(auth)
      .send({
        tenantId: "ops-secret",
        customerId: "ops",
        plan: "trial",
        odooVersion: "17",
        adminEmail: "o@ops.example",
      })
      .expect(202);
    await converged("ops-secret", "active");
    await api().post("/admin/tenants/ops-secret/suspend").set(auth).expect(202);
    await converged("ops-secret", "suspended");
    await api().post("/admin/tenants/ops-secret/resume").set(auth).expect(202);
    await converged("ops-secret", "active");
    await api().delete("/admin/tenants/ops-secret").set(auth).expect(202);
    await converged("ops-secret", "deleted");
    // Refused and failing requests log too.
    await api()
      .get("/admin/tenants")
      .set("Authorization", "Bearer wrong-token-0123456789")
      .expect(401);
    await api()
      .post(`/webhooks/killbill/${WEBHOOK_SECRET}`)
      .set("Content-Type", "application/json")
      .send("{bad")
      .expect(400);

    const text = lines.join("");
    expect(lines.length).toBeGreaterThan(10);
    // ("password", Kill Bill's default admin password in tests, is too common a word to search.)
    for (const secret of [
      ADMIN_TOKEN,
      WEBHOOK_SECRET,
      KB_AUTH.apiSecret,
      h.config.automation.passphrase,
    ])
      expect(text).not.toContain(secret);
  });
});
