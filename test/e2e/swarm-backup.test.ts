// Backup and restore of a tenant on Docker Swarm through the API: the backup agent attaches to the
// platform's (attachable overlay) data network and mounts the volume on the node's engine; the
// restore scales the Odoo service to 0 and back around the swap.
import { eventually } from "../api-harness";
import { apiOnPlatform, auth } from "./api-on-platform";
import { docker } from "./platform";
import { ODOO_STAND_IN } from "../stand-ins";

const ID = "swarm-keep";
const e = apiOnPlatform("swarm", "e2ef", [ID]);

describe(`backups on Swarm ${ODOO_STAND_IN}`, () => {
  it("backs up a Swarm tenant and restores it, the service scaled down and up around the swap", async () => {
    await e
      .api()
      .post("/admin/tenants")
      .set(auth)
      .send({ tenantId: ID, customerId: "swarm-keep-corp", plan: "trial", odooVersion: "17" })
      .expect(202);
    await e.converged(ID, "active");
    await e.attach(ID, "before.txt");
    const backup = await e.api().post(`/admin/tenants/${ID}/backups`).set(auth).expect(202);
    await e.operationDone(backup.body.id);
    await e.attach(ID, "after.txt");
    const restore = await e
      .api()
      .post(`/admin/tenants/${ID}/restore`)
      .set(auth)
      .send({})
      .expect(202);
    await e.operationDone(restore.body.id);
    const service = await docker.getService(`odoo-${ID}`).inspect();
    expect(service.Spec.Mode.Replicated.Replicas).toBe(1);
    expect(await e.attachments(ID)).toEqual(["before.txt"]);
    // Progress of the restore on its event stream.
    const events = await e.api().get(`/admin/operations/${restore.body.id}/events`).set(auth);
    expect(events.text).toContain("runtime stopped; restoring backup");
    expect(events.text).toContain('"status":"succeeded"');
    await eventually(async () => (await e.view(ID)).status === "running", 60_000, "status running");
  }, 600_000);
});
