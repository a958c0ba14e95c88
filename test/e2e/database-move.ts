// A plan change that moves the database, through the API on a real platform: shared -> dedicated
// (standard -> premium) and back, with data written before each move and read after it (a table
// handed to the tenant's role, and Odoo attachments with their files), the source kept until its
// retention ends, then dropped; the customer told once it is done; the tenant converged only once
// it answers through Traefik, at its URL with the port. Shared by the container and Swarm suites.
import { execOutput } from "../helpers/docker-output";
import { eventually } from "../api-harness";
import type { Runtime } from "../../components/workload";
import { apiOnPlatform, auth, hostOf } from "./api-on-platform";
import { docker, request as viaTraefik, type PlatformName } from "./platform";
import { ODOO_STAND_IN } from "../stand-ins";
import { StackRunner, TENANT_PROJECT } from "../../automation";

const DAY_MS = 86_400_000;

export function databaseMoveStories(runtime: Runtime, platform: PlatformName): void {
  let clock = Date.now();
  const ID = `move-${runtime === "swarm" ? "s" : "c"}`;
  const e = apiOnPlatform(runtime, platform, [ID], { now: () => new Date(clock) });
  const database = "odoo_move_corp_" + ID.replace(/-/g, "_");

  /** The dedicated server's container (the Swarm task's, on this one node). */
  const dedicatedContainer = async () => {
    const name = `odoo-${ID}-postgres`;
    const [c] = await docker.listContainers({
      filters: JSON.stringify(
        runtime === "swarm"
          ? { label: [`com.docker.swarm.service.name=${name}`], status: ["running"] }
          : { name: [`^/${name}$`] },
      ),
    });
    if (!c) throw new Error(`no running ${name}`);
    return docker.getContainer(c.Id);
  };
  /** Rows of the customer's own table, read where the database is. */
  const notes = async (where: "shared" | "dedicated"): Promise<string[]> => {
    const sql = "SELECT body FROM customer_notes ORDER BY id";
    if (where === "shared") {
      const c = await e.p.admin(database);
      try {
        return (await c.query(sql)).rows.map((r) => r.body);
      } finally {
        await c.end();
      }
    }
    const out = await execOutput(await dedicatedContainer(), [
      "psql",
      "-U",
      "postgres",
      "-d",
      database,
      "-qAtX",
      "-c",
      sql,
    ]);
    return out.split("\n").filter(Boolean);
  };
  const addNote = async (where: "shared" | "dedicated", body: string) => {
    const sql = `INSERT INTO customer_notes (body) VALUES ('${body}')`;
    if (where === "shared") {
      const c = await e.p.admin(database);
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    } else
      await execOutput(await dedicatedContainer(), [
        "psql",
        "-U",
        "postgres",
        "-d",
        database,
        "-c",
        sql,
      ]);
  };
  const changePlan = (plan: string) =>
    e.api().post(`/admin/tenants/${ID}/plan`).set(auth).send({ plan }).expect(202);
  const moveDetails = async () =>
    (
      await e.h.runtime.pool.query(
        `SELECT details->'databaseMove' AS move FROM operations
          WHERE tenant_id = $1 AND details ? 'databaseMove' ORDER BY started_at`,
        [ID],
      )
    ).rows.map((r) => r.move);
  const mailsTo = () => e.h.smtp.messages.filter((m) => m.to.includes("owner@move.example"));

  describe(`database moves on the ${runtime} runtime ${ODOO_STAND_IN}`, () => {
    it("standard -> premium: the data moves to a server of its own, the shared copy is kept", async () => {
      await e
        .api()
        .post("/admin/tenants")
        .set(auth)
        .send({
          tenantId: ID,
          customerId: "move-corp",
          plan: "standard",
          odooVersion: "17",
          adminEmail: "owner@move.example",
        })
        .expect(202);
      const first = await e.converged(ID, "active");
      // The URL answers as shown: the local platform's port is part of it.
      expect(first.url).toBe(`https://${hostOf(ID)}:${e.p.httpsPort}`);
      expect(first.database).toMatchObject({ placement: "shared", move: null, kept: [] });
      const admin = await e.p.admin(database);
      await admin.query("CREATE TABLE customer_notes (id serial PRIMARY KEY, body text NOT NULL)");
      await admin.query(`ALTER TABLE customer_notes OWNER TO ${database}`);
      await admin.query(`ALTER SEQUENCE customer_notes_id_seq OWNER TO ${database}`);
      await admin.end();
      await addNote("shared", "written on the shared server");
      await e.attach(ID, "invoice.pdf", "the customer's file");

      await changePlan("premium");
      const moved = await e.converged(ID, "active");
      // Converged means answering through the edge: right now, on the first request.
      expect((await viaTraefik(e.p.httpsPort, hostOf(ID), "/web/health")).status).toBe(200);
      expect(moved).toMatchObject({
        plan: "premium",
        database: { placement: "dedicated", move: null },
      });
      expect(moved.database.kept).toEqual([{ placement: "shared", keptUntil: expect.any(String) }]);
      expect(await notes("dedicated")).toEqual(["written on the shared server"]);
      expect(await e.attachments(ID)).toEqual(["invoice.pdf"]);
      // The source is kept as it was (not dropped): the retention decides.
      expect(await notes("shared")).toEqual(["written on the shared server"]);
      const [move] = await moveDetails();
      expect(move).toMatchObject({ from: "shared", to: "dedicated", tables: expect.any(Number) });
      expect(move.rows).toBeGreaterThanOrEqual(2);
      expect(move.backupId).toEqual(expect.any(String));
      console.log(`[database move ${runtime}] shared -> dedicated: downtime ${move.downtimeMs} ms`);
      // Told once it is done, in those words; never "moves to" beforehand.
      await eventually(async () =>
        mailsTo().some((m) => m.subject.includes("now runs on the Premium plan")),
      );
      expect(mailsTo().filter((m) => /plan/i.test(m.subject))).toHaveLength(1);
    }, 900_000);

    it("another host takes the control plane over: it backs the dedicated server up and restores it with the passwords the state holds", async () => {
      const passwords = async () => {
        const out = await new StackRunner(e.p.settings).secretOutputs({
          project: TENANT_PROJECT,
          stack: ID,
        });
        return [out.databasePassword, out.databaseSuperuserPassword];
      };
      const before = await passwords();
      expect(before).toEqual([expect.any(String), expect.any(String)]);
      await e.h.restartElsewhere(); // work directories of its own: no config, no secrets there
      let started = Date.now();
      const backup = await e.api().post(`/admin/tenants/${ID}/backups`).set(auth).expect(202);
      const done = await e.operationDone(backup.body.id);
      const backupMs = Date.now() - started;
      expect(done.details).toMatchObject({ backupId: expect.any(String) });
      // And a restore of it: the same data, read and written as the dedicated server's superuser.
      started = Date.now();
      const restore = await e
        .api()
        .post(`/admin/tenants/${ID}/restore`)
        .set(auth)
        .send({ backupId: done.details.backupId })
        .expect(202);
      await e.operationDone(restore.body.id);
      const restoreMs = Date.now() - started;
      const t = await e.converged(ID, "active");
      expect(t.database.placement).toBe("dedicated");
      expect(await passwords()).toEqual(before);
      expect(await notes("dedicated")).toEqual(["written on the shared server"]);
      // The move's downtime next to its target: a backup plus a restore of the same data.
      const [move] = await moveDetails();
      console.log(
        `[database move ${runtime}] shared -> dedicated downtime ${move.downtimeMs} ms; a backup ${backupMs} ms + a restore ${restoreMs} ms of the same data = ${backupMs + restoreMs} ms (ratio ${(move.downtimeMs / (backupMs + restoreMs)).toFixed(2)})`,
      );
    }, 900_000);

    // From the other host: the move reads the dedicated server as its superuser.
    it("premium -> standard: back to the shared server with what was written meanwhile", async () => {
      await addNote("dedicated", "written on the dedicated server");
      await e.attach(ID, "order.pdf", "another file");
      await changePlan("standard");
      const back = await e.converged(ID, "active");
      expect(back.database).toMatchObject({ placement: "shared", move: null });
      expect(back.database.kept.map((k: { placement: string }) => k.placement)).toEqual([
        "dedicated",
      ]);
      expect(await notes("shared")).toEqual([
        "written on the shared server",
        "written on the dedicated server",
      ]);
      expect(await e.attachments(ID)).toEqual(["invoice.pdf", "order.pdf"]);
      // New rows get new ids: the sequence came along.
      await addNote("shared", "written after coming back");
      expect(await notes("shared")).toHaveLength(3);
      const moves = await moveDetails();
      expect(moves.map((m) => `${m.from} -> ${m.to}`)).toEqual([
        "shared -> dedicated",
        "dedicated -> shared",
      ]);
      console.log(
        `[database move ${runtime}] dedicated -> shared: downtime ${moves[1].downtimeMs} ms`,
      );
      // The dedicated server is stopped, its data kept.
      const volume = await docker.getVolume(`odoo-${ID}-postgres-data`).inspect();
      expect(volume.Name).toBe(`odoo-${ID}-postgres-data`);
    }, 900_000);

    it("the moved-away database is dropped once its retention ends, and nothing else", async () => {
      clock += 31 * DAY_MS;
      await e.h.runtime.queues.maintenance.add("grace-periods", { task: "grace-periods" });
      await eventually(
        async () => (await e.view(ID)).database.kept.length === 0 && (await e.view(ID)).converged,
        240_000,
        "the kept dedicated database dropped",
      );
      await eventually(
        () =>
          docker
            .getVolume(`odoo-${ID}-postgres-data`)
            .inspect()
            .then(
              () => false,
              () => true,
            ),
        60_000,
        "the dedicated server's volume removed",
      );
      expect(await notes("shared")).toHaveLength(3);
      expect(await e.attachments(ID)).toEqual(["invoice.pdf", "order.pdf"]);
    }, 600_000);
  });
}
