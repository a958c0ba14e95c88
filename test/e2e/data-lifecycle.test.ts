// No customer data is lost, on the real engine through the API: backups into a real restic
// repository, restore into the tenant and into a new tenant id, the Odoo export zip, cancellation
// to `terminated` (data kept), reactivation with the same data, the grace period's end on an
// injected clock (deleted only after a verified final backup, nothing left in the state backend),
// and a fresh tenant under the same id restored from that final backup.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli } from "../../cli/cli";
import { ADMIN_TOKEN, eventually, WEBHOOK_SECRET } from "../api-harness";
import { notification } from "../killbill-stand-in";
import { apiOnPlatform, auth } from "./api-on-platform";
import { drillScratchVolumes } from "../helpers/drill-volumes";
import { docker } from "./platform";
import { ODOO_STAND_IN, KILL_BILL_STAND_IN } from "../stand-ins";

const DAY_MS = 86_400_000;
let clock = Date.now();
const ID = "keep-co";
const COPY = "keep-copy";
const e = apiOnPlatform("container", "e2ed", [ID, COPY], { now: () => new Date(clock) });
const api = () => e.api();
const view = (id = ID) => e.view(id);
const converged = (state: string, id = ID) => e.converged(id, state);
const operationDone = (opId: string) => e.operationDone(opId);
const attachments = (id = ID) => e.attachments(id);
const attach = (name: string, content: string, id = ID) => e.attach(id, name, content);
/** The same account subscribes again for the same tenant id (a returning customer). */
const resubscribe = (accountId: string) =>
  e.h.killbill.subscribe({
    tenantId: ID,
    customer: "keep-corp",
    email: "owner@keep.example",
    planName: "odoo-basic-monthly",
    accountId,
  });
const hook = (body: object) => api().post(`/webhooks/killbill/${WEBHOOK_SECRET}`).send(body);
const event = (sub: { subscriptionId: string; accountId: string }, type: string) =>
  hook(notification(type, "SUBSCRIPTION", sub.subscriptionId, sub.accountId, null));
const mails = (subject: string) =>
  eventually(
    async () =>
      e.h.smtp.messages.find(
        (m) => m.to.includes("owner@keep.example") && m.subject.includes(subject),
      ),
    60_000,
    `mail "${subject}"`,
  );
const backups = async (id = ID) => (await api().get(`/admin/tenants/${id}/backups`).set(auth)).body;
const volumeExists = (name: string) =>
  docker
    .getVolume(name)
    .inspect()
    .then(
      () => true,
      () => false,
    );
const databases = async (like: string) => {
  const admin = await e.p.admin();
  try {
    return (await admin.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [like]))
      .rows;
  } finally {
    await admin.end();
  }
};

describe(`no customer data is lost ${ODOO_STAND_IN} ${KILL_BILL_STAND_IN}`, () => {
  let sub: ReturnType<typeof e.h.killbill.subscribe>;
  let manual: { id: string };

  it("a manual backup is taken, verified and recorded", async () => {
    sub = e.h.killbill.subscribe({
      tenantId: ID,
      customer: "keep-corp",
      email: "owner@keep.example",
      planName: "odoo-basic-monthly",
    });
    await event(sub, "ENTITLEMENT_CREATION").expect(200);
    await converged("active");
    await attach("original.txt", "the customer's first file");
    const queued = await api().post(`/admin/tenants/${ID}/backups`).set(auth).expect(202);
    expect(queued.body).toMatchObject({ type: "backup", status: "queued" });
    const op = await operationDone(queued.body.id);
    [manual] = await backups();
    expect(op.details.backupId).toBe(manual.id);
    expect(manual).toMatchObject({
      reason: "manual",
      status: "succeeded",
      plan: "basic",
      odooVersion: "17",
    });
    expect(Date.parse((manual as any).verifiedAt)).toBeGreaterThan(0);
    expect((manual as any).bytesProcessed).toBeGreaterThan(0);
    expect((manual as any).modules).toHaveProperty("base");
  }, 400_000);

  it("the CLI takes a backup, lists backups and shows the status through the API", async () => {
    const out: string[] = [];
    const cli = (...argv: string[]) =>
      runCli(argv, {
        env: { ADMIN_TOKEN, ODOO_SAAS_API_URL: e.h.runtime.url! },
        stdout: (t) => out.push(t),
        stderr: () => undefined,
      });
    expect(await cli("tenants", "backup", ID)).toBe(0);
    expect(out.pop()).toMatch(new RegExp(`^${ID}: backup [0-9a-f-]{36}\n$`));
    expect(await cli("tenants", "backups", ID, "--json")).toBe(0);
    expect(JSON.parse(out.pop()!).map((b: { reason: string }) => b.reason)).toEqual([
      "manual",
      "manual",
    ]);
    expect(await cli("tenants", "status", ID)).toBe(0);
    expect(out.pop()).toMatch(new RegExp(`^${ID} +running +basic`));
    expect(await cli("tenants", "backup", "no-such-tenant")).toBe(1);
  }, 300_000);

  it("the restore drill restores the latest backup into scratch, checks it, records it, and leaves nothing", async () => {
    const [latest] = await backups();
    const attachmentsBefore = await attachments();
    const since = Math.floor(Date.now() / 1000) - 1;
    await api().post("/admin/restore-drills").set(auth).expect(202);
    const drill = await eventually(
      async () => {
        const [d] = (await api().get("/admin/restore-drills").set(auth)).body;
        return d?.tenantId === ID && d.status !== "running" && d;
      },
      180_000,
      "the restore drill",
    );
    expect(drill).toMatchObject({ status: "succeeded", backupId: latest.id, error: null });
    // The database opened with Odoo's modules as the backup recorded them; every file came back.
    expect(drill.details.tables).toBeGreaterThan(0);
    expect(drill.details.modules).toBe(Object.keys(latest.modules).length);
    expect(drill.details.files).toBe(latest.filestoreEntries);
    expect(drill.details.files).toBeGreaterThan(0);
    // Nothing left: no scratch database, no scratch volume; the tenant untouched.
    expect(await databases("drill_%")).toEqual([]);
    const scratch = await drillScratchVolumes(docker, since);
    expect(scratch).toHaveLength(1);
    const left = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name);
    expect(left.filter((v) => scratch.includes(v))).toEqual([]);
    expect(await attachments()).toEqual(attachmentsBefore);
    const metrics = (await api().get("/metrics")).text;
    const last = Number(
      /^odoo_saas_restore_drill_last_success_timestamp (\S+)$/m.exec(metrics)![1],
    );
    expect(Math.abs(last * 1000 - Date.parse(drill.finishedAt))).toBeLessThan(2000);
    expect(metrics).toMatch(/^odoo_saas_restore_drills_total\{result="succeeded"\} 1$/m);
    expect(metrics).not.toContain(`odoo_saas_restore_drill_failed{tenant="${ID}"}`);
  }, 300_000);

  it("restore brings rows and files back to the backup, and the instance runs again", async () => {
    await attach("later.txt", "written after the backup");
    expect(await attachments()).toEqual(["original.txt", "later.txt"]);
    const queued = await api()
      .post(`/admin/tenants/${ID}/restore`)
      .set(auth)
      .send({ backupId: manual.id })
      .expect(202);
    await operationDone(queued.body.id);
    expect(await attachments()).toEqual(["original.txt"]);
    expect((await view()).status).toBe("running");
  }, 300_000);

  it("a restore run again after a crash left the runtime stopped starts it again", async () => {
    await docker.getContainer(`odoo-${ID}`).stop();
    const queued = await api().post(`/admin/tenants/${ID}/restore`).set(auth).send({}).expect(202);
    await operationDone(queued.body.id);
    expect(await attachments()).toEqual(["original.txt"]);
  }, 300_000);

  it("restore into a new tenant id makes a copy with the same data", async () => {
    const queued = await api()
      .post(`/admin/tenants/${ID}/restore`)
      .set(auth)
      .send({ targetTenantId: COPY })
      .expect(202);
    await operationDone(queued.body.id);
    expect(await attachments(COPY)).toEqual(["original.txt"]);
    expect(await attachments()).toEqual(["original.txt"]); // the source is untouched
  }, 400_000);

  it("a plan change takes a backup first; an agent killed midway is recorded as failed, never as good", async () => {
    await api()
      .post(`/admin/tenants/${COPY}/plan`)
      .set(auth)
      .send({ plan: "standard" })
      .expect(202);
    await eventually(
      async () => (await view(COPY)).converged && (await view(COPY)).plan === "standard",
      240_000,
    );
    expect((await backups(COPY))[0]).toMatchObject({
      reason: "pre-change",
      status: "succeeded",
      plan: "basic",
    });

    // Killed on its start event, not when a poll sees it: a backup that reuses the unchanged
    // dump is quick enough to finish between two polls, and the kill would then land on nothing.
    // This tenant's agent only: other suites back up their tenants on the same engine meanwhile.
    const starts = (await docker.getEvents({
      filters: {
        type: ["container"],
        event: ["start"],
        label: ["odoo-saas.verb=backup", `odoo-saas.agent-for=${COPY}`],
      },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const agentKilled = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no backup agent started in 60 s")), 60_000);
      starts.once("data", (chunk: Buffer) => {
        clearTimeout(timer);
        const { id } = JSON.parse(chunk.toString("utf8").split("\n")[0]) as { id: string };
        docker
          .getContainer(id)
          .kill()
          .then(() => resolve(), reject);
      });
    });
    let queued;
    try {
      queued = await api().post(`/admin/tenants/${COPY}/backups`).set(auth).expect(202);
      await agentKilled;
    } finally {
      starts.destroy();
    }
    // The job's next attempt takes a good backup under the same operation.
    const op = await operationDone(queued.body.id);
    const [good, killed] = await backups(COPY);
    expect(good).toMatchObject({ id: op.details.backupId, status: "succeeded" });
    expect(killed).toMatchObject({ status: "failed", databaseSnapshot: null, verifiedAt: null });
    expect(killed.error).toMatch(/exited with 137/);
  }, 400_000);

  it("DELETE ?skipBackup=true deletes without a final backup", async () => {
    const before = (await backups(COPY)).length;
    await api().delete(`/admin/tenants/${COPY}?skipBackup=true`).set(auth).expect(202);
    await converged("deleted", COPY);
    expect(await backups(COPY)).toHaveLength(before);
    expect(await databases("odoo_keep_corp_keep_copy")).toEqual([]);
  }, 300_000);

  it("the export is Odoo's backup zip: manifest.json, dump.sql and filestore/", async () => {
    const res = await api()
      .get(`/admin/tenants/${ID}/export`)
      .set(auth)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => cb(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/zip");
    const file = path.join(e.h.dataDir, "export.zip");
    fs.writeFileSync(file, res.body as Buffer);
    const listing = JSON.parse(
      execFileSync("python3", [
        "-c",
        `import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps({"names": z.namelist(), "manifest": json.loads(z.read("manifest.json")),
  "sql": z.read("dump.sql").decode()[:200000],
  "files": [z.read(n).decode() for n in z.namelist() if n.startswith("filestore/")]}))`,
        file,
      ]).toString(),
    );
    expect(listing.names.slice(0, 2)).toEqual(["manifest.json", "dump.sql"]);
    expect(listing.manifest).toMatchObject({
      odoo_dump: "1",
      version: "17.0",
      major_version: "17.0",
    });
    expect(listing.manifest.modules).toHaveProperty("base");
    expect(listing.sql).toContain("CREATE TABLE public.ir_attachment");
    expect(listing.files).toEqual(["the customer's first file"]);
  }, 120_000);

  it("cancellation terminates: a final backup, the runtime stopped, database and volume kept", async () => {
    sub.state = "CANCELLED";
    await event(sub, "ENTITLEMENT_CANCEL").expect(200);
    const t = await converged("terminated");
    expect(t.status).toBe("terminated");
    expect(Date.parse(t.dataKeptUntil) - clock).toBeGreaterThan(29 * DAY_MS);
    expect((await backups())[0]).toMatchObject({ reason: "pre-terminate", status: "succeeded" });
    expect(await docker.listContainers({ all: true, filters: { name: [`^odoo-${ID}$`] } })).toEqual(
      [],
    );
    expect(await volumeExists(`odoo-${ID}-filestore`)).toBe(true);
    expect(await databases("odoo_keep_corp_keep_co")).toHaveLength(1);
    const mail = await mails("has been stopped");
    expect(mail.raw).toContain(`Your data is kept until ${t.dataKeptUntil.slice(0, 10)}`);
  }, 300_000);

  it("a new subscription within the grace period brings the same instance back with its data", async () => {
    sub = resubscribe(sub.accountId);
    await event(sub, "ENTITLEMENT_CREATION").expect(200);
    await converged("active");
    expect(await attachments()).toEqual(["original.txt"]);
    await mails("is back");
  }, 300_000);

  it("past the grace period it is deleted, only after a verified final backup; nothing stays in the state backend", async () => {
    sub.state = "CANCELLED";
    await event(sub, "ENTITLEMENT_CANCEL").expect(200);
    await converged("terminated");
    clock += 31 * DAY_MS;
    await e.h.runtime.queues.maintenance.add("grace-periods", { task: "grace-periods" });
    await converged("deleted");
    const [last] = await backups();
    expect(last).toMatchObject({ reason: "pre-destroy", status: "succeeded" });
    const destroy = (await view()).lastOperation;
    expect(destroy.type).toBe("destroy");
    expect(Date.parse(last.finishedAt)).toBeLessThanOrEqual(Date.parse(destroy.finishedAt));
    expect(await volumeExists(`odoo-${ID}-filestore`)).toBe(false);
    expect(await databases("odoo_keep_corp_keep_co")).toEqual([]);
    const state = e.p.settings.backendUrl.slice("file://".length);
    const left = execFileSync("find", [state])
      .toString()
      .split("\n")
      .filter((f) =>
        f.split("/").some((part) => new RegExp(`^${ID}($|[.-]\\d|\\.json)`).test(part)),
      );
    expect(left).toEqual([]);
  }, 400_000);

  it("a new subscription after deletion starts fresh, and the final backup restores into it", async () => {
    sub = resubscribe(sub.accountId);
    await event(sub, "ENTITLEMENT_CREATION").expect(200);
    await converged("active");
    expect(await attachments()).toEqual([]);
    const [last] = await backups();
    const queued = await api()
      .post(`/admin/tenants/${ID}/restore`)
      .set(auth)
      .send({ backupId: last.id })
      .expect(202);
    await operationDone(queued.body.id);
    expect(await attachments()).toEqual(["original.txt"]);
  }, 400_000);

  it("backup retention: restic's policy per plan, and a deleted tenant's backups dropped after their days", async () => {
    const mine = await backups();
    clock += 91 * DAY_MS; // keep-copy was deleted over 90 days ago by the API's clock
    await e.h.runtime.queues.maintenance.add("backup-retention", { task: "backup-retention" });
    // Every good backup of keep-copy (the killed one never had snapshots) is dropped.
    const copies = await eventually(
      async () => {
        const good = (await backups(COPY)).filter(
          (b: { status: string }) => b.status === "succeeded",
        );
        return good.every((b: { forgottenAt: string | null }) => b.forgottenAt) && good;
      },
      240_000,
      "keep-copy's backups forgotten",
    );
    expect(copies.length).toBeGreaterThan(0);
    // All of keep-co's backups are of today: --keep-daily keeps the newest of the day, the rest go.
    const after = await backups();
    expect(after.map((b: { forgottenAt: string | null }) => !!b.forgottenAt)).toEqual(
      mine.map((_: unknown, i: number) => i !== 0),
    );
  }, 400_000);
});
