// The dead man's switch on the real API, PostgreSQL, Redis and an SMTP receiver: Alertmanager's
// heartbeats (posted here as its webhook does) keep the operator's mailbox quiet; their silence is
// mailed once, their return once; among several API processes one mail each.
import type { Pool } from "pg";
import request from "supertest";
import { createLogger } from "../api/common/logger";
import { MonitoringWatch } from "../api/services/monitoring-watch";
import { MonitoringHeartbeatStore } from "../api/store/monitoring-heartbeat-store";
import { ApiHarness, eventually } from "./api-harness";
import { migratedDatabase } from "./helpers/migrated-database";

const TOKEN = "monitoring-token-0123456789";
const SILENCE = 5;

describe("the API watching the monitoring's heartbeat", () => {
  const h = new ApiHarness({
    env: {
      MONITORING_TOKEN: TOKEN,
      MONITORING_SILENCE_SECONDS: String(SILENCE),
      MONITORING_WATCH_CRON: "* * * * * *",
    },
  });
  beforeAll(() => h.start());
  afterAll(() => h.stop());
  const api = () => request(h.runtime.url!);
  const beat = () => api().post("/monitoring/heartbeat").set("Authorization", `Bearer ${TOKEN}`);
  const mails = (status: "FIRING" | "RESOLVED") =>
    h.smtp.messages.filter(
      (m) => m.to.includes("ops@example.com") && m.subject.includes(`${status}: MonitoringSilent`),
    );

  it("takes heartbeats with the monitoring token only", async () => {
    expect((await api().post("/monitoring/heartbeat")).status).toBe(401);
    expect(
      (await api().post("/monitoring/heartbeat").set("Authorization", "Bearer wrong")).status,
    ).toBe(401);
    expect((await beat().send({ alerts: [{ labels: { alertname: "Watchdog" } }] })).status).toBe(
      204,
    );
    await eventually(
      async () =>
        /odoo_saas_monitoring_heartbeat_age_seconds [0-4](\.\d+)?\n/.test(
          (await api().get("/metrics")).text,
        ),
      10_000,
      "the heartbeat's age on /metrics",
    );
  });

  it("beating, nothing is mailed; silent, the operator is mailed once; back, once more", async () => {
    // Heartbeats every second for twice the allowed silence: no mail.
    for (let i = 0; i < 2 * SILENCE; i++) {
      expect((await beat()).status).toBe(204);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(mails("FIRING")).toHaveLength(0);
    const silentFrom = Date.now();
    const firing = await eventually(async () => mails("FIRING")[0], 30_000, "the silence mail");
    expect(firing.at - silentFrom).toBeGreaterThanOrEqual(SILENCE * 1000 - 1000);
    expect(firing.raw).toContain("Prometheus or Alertmanager is down");
    expect(firing.raw).toContain("docker service ps");
    await new Promise((r) => setTimeout(r, 3000)); // more checks: still one mail
    expect(mails("FIRING")).toHaveLength(1);
    expect((await beat()).status).toBe(204);
    await eventually(async () => mails("RESOLVED")[0], 30_000, "the mail that it is back");
    await new Promise((r) => setTimeout(r, 3000));
    expect([mails("FIRING").length, mails("RESOLVED").length]).toEqual([1, 1]);
  }, 90_000);
});

describe("several API processes watching one heartbeat", () => {
  const database = migratedDatabase("heartbeat");
  let pool: Pool;
  let store: MonitoringHeartbeatStore;
  const sent: string[] = [];
  const watch = () =>
    new MonitoringWatch({
      store,
      mail: { send: async (m) => void sent.push(m.subject) },
      operatorEmail: "ops@example.com",
      silenceSeconds: 5,
      heartbeatAge: { set: () => undefined },
      logger: createLogger("silent"),
    });
  beforeAll(async () => {
    pool = await database.create();
    store = new MonitoringHeartbeatStore(pool);
    five = Array.from({ length: 5 }, watch);
  });
  afterAll(() => database.drop(pool));

  /** The last heartbeat, and the last process start, a minute ago. */
  const silentForAMinute = () =>
    pool.query(
      "UPDATE monitoring_heartbeat SET received_at = now() - interval '1 minute', watched_since = now() - interval '1 minute'",
    );
  let five: MonitoringWatch[];

  it("a process starting gives the heartbeats their full time: an old one is no silence yet", async () => {
    await store.received();
    await silentForAMinute(); // e.g. the API itself was down for a minute
    const first = await Promise.all(five.map((w) => w.check()));
    expect(first.map((r) => r?.mailed)).toEqual(Array(5).fill(undefined));
    expect(first.every((r) => r!.silentSeconds < 5)).toBe(true);
  });

  it("a silence is mailed by one of them, and its end by one of them", async () => {
    await silentForAMinute();
    const first = await Promise.all(five.map((w) => w.check()));
    expect(first.filter((r) => r?.mailed === "silent")).toHaveLength(1);
    expect(sent).toEqual(["[odoo-saas] FIRING: MonitoringSilent: no alert can reach you"]);
    await store.received();
    const second = await Promise.all(five.map((w) => w.check()));
    expect(second.filter((r) => r?.mailed === "back")).toHaveLength(1);
    expect(sent).toHaveLength(2);
  });

  it("a silence whose mail could not be written is mailed at the next check", async () => {
    let fail = true;
    const flaky = new MonitoringWatch({
      store,
      mail: {
        send: async (m) => {
          if (fail) throw new Error("outbox unavailable");
          sent.push(m.subject);
        },
      },
      operatorEmail: "ops@example.com",
      silenceSeconds: 5,
      heartbeatAge: { set: () => undefined },
      logger: createLogger("silent"),
    });
    expect((await flaky.check())?.mailed).toBeUndefined(); // armed
    await silentForAMinute();
    await expect(flaky.check()).rejects.toThrow("outbox unavailable");
    fail = false;
    expect((await flaky.check())?.mailed).toBe("silent");
  });

  it("with no heartbeat ever, the silence counts from the process's start", async () => {
    await pool.query("DELETE FROM monitoring_heartbeat");
    const w = watch();
    expect((await w.check())?.mailed).toBeUndefined(); // armed now
    await pool.query("UPDATE monitoring_heartbeat SET watched_since = now() - interval '1 minute'");
    expect((await w.check())?.mailed).toBe("silent");
  });
});
