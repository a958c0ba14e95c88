// The soak (bench/soak.ts runs it long, test/soak.test.ts short in CI): two API processes on one
// PostgreSQL (store and Pulumi state backend, postgres://), one Redis, the Kill Bill stand-in and
// an SMTP receiver; Kill Bill's traffic (kill-bill-traffic.ts) delivered to either process, each
// refused or failed delivery retried as Kill Bill does; faults at seeded random times: one API
// process SIGKILLed mid-run (with its engine runs) and restarted, Redis removed for 20 s and
// started empty, PostgreSQL stopped for 20 s. Then it waits for convergence and reports what a
// hosting control plane must guarantee, each figure checked by the caller.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KB_AUTH, KillBillStandIn } from "../killbill-stand-in";
import { SmtpReceiver, type ReceivedMail } from "../smtp-receiver";
import { SoakApiProcess } from "./api-process";
import { KillBillTraffic, seeded, type Delivery } from "./kill-bill-traffic";
import { RedisContainer } from "../helpers/redis-container";
import { SoakPostgres } from "./services";

export type Fault = "crash" | "redis" | "postgres";

export interface SoakOptions {
  tenants: number;
  webhooks: number;
  seconds: number;
  seed: number;
  /** Changes per tenant after its subscription, at least and at most. */
  changes?: [number, number];
  faults: Fault[];
  /** How long the fleet may take to converge after the last delivery. */
  convergeTimeoutSeconds: number;
  /** Loopback ports: PostgreSQL, Redis, and the two API processes. */
  ports: { postgres: number; redis: number; apiA: number; apiB: number };
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  deliveries: {
    handed: number;
    attempts: number;
    acknowledged: number;
    refused503: number;
    connectionErrors: number;
    http500: number;
  };
  /** Acknowledged deliveries not in the inbox (lost), and inbox rows never processed. */
  lost: number;
  unprocessed: number;
  tenants: number;
  /** Tenants whose final state differs from Kill Bill's, with what differs (first 10). */
  mismatches: string[];
  convergedAfterSeconds: number;
  operations: { succeeded: number; failed: number; abandoned: number; running: number };
  /** What the failed and abandoned operations said (distinct, the first 5). */
  operationErrors: string[];
  /** A generation applied twice, or two engine runs of one tenant at once (must be none). */
  duplicateApplies: number;
  overlappingRuns: number;
  /** The same outbox mail received more than once (same Message-ID). */
  resentMails: string[];
  /** Two different mails with one subject in a row to one customer: an effect applied twice. */
  repeatedMails: string[];
  faults: { kind: Fault; atSeconds: number; downSeconds: number }[];
  /** Resident memory of the process never killed, after warm-up and at the end (MB). */
  rss: { startMb: number; endMb: number; peakMb: number };
  /** An engine run alone (the floor), and the median run during the soak (ms). */
  upFloorMs: number;
  upMedianMs: number;
  /** The processes' log lines at level error or above (must be none) and the outages they logged. */
  errorLines: string[];
  outageLines: string[];
  /** API processes that died without being killed by the soak. */
  unexpectedExits: number;
}

const ADMIN_TOKEN = "soak-admin-token-0123456789";
const SECRET = "soak-webhook-secret-0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-soak-"));
  const pg = new SoakPostgres(o.ports.postgres);
  const redis = new RedisContainer(o.ports.redis);
  const kb = new KillBillStandIn();
  const smtp = new SmtpReceiver();
  await Promise.all([pg.start(), redis.start(), kb.start(), smtp.start()]);
  const env = {
    HOST: "127.0.0.1",
    DATABASE_URL: pg.url("api"),
    REDIS_URL: redis.url,
    // The local server has no TLS; Pulumi's backend asks for it unless told otherwise.
    PULUMI_BACKEND_URL: `${pg.url("pulumi_state")}?sslmode=disable`,
    PULUMI_CONFIG_PASSPHRASE: "soak-passphrase",
    ODOO_SAAS_DATA_DIR: dir,
    ODOO_SAAS_QUEUE_PREFIX: "soak",
    ADMIN_TOKEN,
    KILLBILL_WEBHOOK_SECRET: SECRET,
    KILLBILL_URL: kb.url,
    KILLBILL_USERNAME: KB_AUTH.username,
    KILLBILL_PASSWORD: KB_AUTH.password,
    KILLBILL_API_KEY: KB_AUTH.apiKey,
    KILLBILL_API_SECRET: KB_AUTH.apiSecret,
    SMTP_URL: smtp.url,
    OPERATOR_EMAIL: "ops@soak.example",
    SWEEP_INTERVAL_MS: "2000",
    JOB_LOCK_MS: "10000",
    LOG_LEVEL: "info",
    BACKUP_REPOSITORY: path.join(dir, "backups"),
    BACKUP_PASSWORD: "soak-backup-password-0123456789",
    SHARED_POSTGRES_MAX_CONNECTIONS: "100000",
    // The provider-free program runs no Odoo and has no edge to answer through.
    EDGE_PROBE: "off",
  };
  const [a, b] = [
    new SoakApiProcess("a", o.ports.apiA, env, path.join(dir, "a.log")),
    new SoakApiProcess("b", o.ports.apiB, env, path.join(dir, "b.log")),
  ];
  try {
    await a.start(); // migrates the store first
    await b.start();
    log(`two API processes on ${a.url} and ${b.url}; state backend postgres://…/pulumi_state`);
    const upFloorMs = await floor(a.url);
    log(`floor: one engine run alone ${upFloorMs} ms`);

    // Kill Bill's side: every delivery retried until acknowledged, to either process.
    const deliveries = {
      handed: 0,
      attempts: 0,
      acknowledged: 0,
      refused503: 0,
      connectionErrors: 0,
      http500: 0,
    };
    const received: string[] = [];
    let next = 0;
    let inFlight = 0;
    const send = async (d: Delivery): Promise<void> => {
      const target = [a, b][next++ % 2];
      deliveries.attempts++;
      inFlight++;
      try {
        const res = await fetch(`${target.url}/webhooks/killbill/${SECRET}`, {
          method: "POST",
          headers: { "content-type": "application/json; charset=UTF-8" },
          body: JSON.stringify(d.body),
          signal: AbortSignal.timeout(15000),
        });
        const body = (await res.json().catch(() => ({}))) as { received?: string };
        if (res.status === 200 && body.received) {
          deliveries.acknowledged++;
          received.push(body.received);
          return;
        }
        if (res.status === 503) deliveries.refused503++;
        else deliveries.http500++;
      } catch {
        deliveries.connectionErrors++;
      } finally {
        inFlight--;
      }
      await sleep(1000 + Math.random() * 2000); // Kill Bill retries later
      return send(d);
    };
    const pending: Promise<void>[] = [];
    const start = Date.now();
    const traffic = new KillBillTraffic(kb, o);
    const sent = traffic.run(
      (d) => {
        deliveries.handed++;
        pending.push(send(d));
      },
      () => Date.now() - start,
    );

    // Faults, one after the other, each at a seeded time in its share of the run.
    const random = seeded(o.seed + 1);
    const faults: SoakReport["faults"] = [];
    const injected = (async () => {
      let free = 0;
      for (const [i, kind] of o.faults.entries()) {
        const share = (o.seconds * 1000 * 0.6) / o.faults.length;
        const at = Math.max(free, o.seconds * 200 + i * share + random() * share * 0.5);
        await sleep(Math.max(0, at - (Date.now() - start)));
        const began = Date.now();
        log(`fault: ${kind} at ${Math.round((began - start) / 1000)} s`);
        if (kind === "crash") {
          await b.crash();
          await sleep(5000);
          await b.start();
        } else if (kind === "redis") {
          await redis.remove();
          await sleep(20000);
          await redis.start();
        } else {
          await pg.stop();
          await sleep(20000);
          await pg.resume();
        }
        faults.push({
          kind,
          atSeconds: Math.round((began - start) / 1000),
          downSeconds: Math.round((Date.now() - began) / 1000),
        });
        free = Date.now() - start + 5000;
      }
    })();

    // Memory of the process never killed: after warm-up, then at the end; the peak meanwhile.
    let startMb = 0;
    let peakMb = 0;
    const sampler = setInterval(() => {
      const mb = a.rssMb();
      peakMb = Math.max(peakMb, mb);
      if (!startMb && Date.now() - start > o.seconds * 250) startMb = mb;
    }, 2000);
    const progress = setInterval(
      () =>
        log(
          `${Math.round((Date.now() - start) / 1000)} s: ${deliveries.handed} handed, ${deliveries.acknowledged} acknowledged, ${inFlight} in flight`,
        ),
      15000,
    );
    try {
      await sent;
      await injected;
      await Promise.all(pending);
      const lastAck = Date.now();
      log(
        `traffic done: ${deliveries.acknowledged} acknowledged in ${Math.round((lastAck - start) / 1000)} s`,
      );

      const expected = traffic.expected();
      expected.set("soak-floor", { state: "active", plan: "basic" });
      let mismatches: string[] = [];
      const deadline = Date.now() + o.convergeTimeoutSeconds * 1000;
      for (;;) {
        mismatches = await compare(pg, expected);
        if (!mismatches.length || Date.now() > deadline) break;
        await sleep(2000);
      }
      const convergedAfterSeconds = Math.round((Date.now() - lastAck) / 1000);
      await sleep(3000); // any duplicate effect shows itself now
      const endMb = a.rssMb();
      return {
        seconds: Math.round((lastAck - start) / 1000),
        deliveries,
        lost:
          received.length -
          Number(
            (
              await pg.query(
                "api",
                "SELECT count(*) FROM webhook_inbox WHERE id = ANY($1::bigint[])",
                [received],
              )
            )[0].count,
          ),
        unprocessed: Number(
          (
            await pg.query("api", "SELECT count(*) FROM webhook_inbox WHERE processed_at IS NULL")
          )[0].count,
        ),
        tenants: expected.size,
        mismatches: mismatches.slice(0, 10),
        convergedAfterSeconds,
        operations: await operationCounts(pg),
        operationErrors: (
          await pg.query(
            "api",
            `SELECT DISTINCT left(error, 300) AS e FROM operations
              WHERE status IN ('failed', 'abandoned') LIMIT 5`,
          )
        ).map((r) => r.e as string),
        duplicateApplies: Number(
          (
            await pg.query(
              "api",
              `SELECT count(*) FROM (SELECT tenant_id, generation FROM operations
                 WHERE status = 'succeeded' GROUP BY 1, 2 HAVING count(*) > 1) d`,
            )
          )[0].count,
        ),
        overlappingRuns: Number(
          (
            await pg.query(
              "api",
              `SELECT count(*) FROM operations x JOIN operations y
                 ON x.tenant_id = y.tenant_id AND x.id < y.id
                WHERE x.started_at < coalesce(y.finished_at, now())
                  AND y.started_at < coalesce(x.finished_at, now())`,
            )
          )[0].count,
        ),
        resentMails: resentMails(smtp),
        repeatedMails: repeatedMails(smtp),
        faults,
        rss: { startMb, endMb, peakMb },
        upFloorMs,
        upMedianMs: Number(
          (
            await pg.query(
              "api",
              `SELECT round(percentile_cont(0.5) WITHIN GROUP
                 (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)) AS ms
               FROM operations WHERE status = 'succeeded' AND tenant_id <> 'soak-floor'`,
            )
          )[0].ms,
        ),
        ...logLines([a.logFile, b.logFile]),
        unexpectedExits: a.unexpectedExits + b.unexpectedExits,
      };
    } finally {
      clearInterval(sampler);
      clearInterval(progress);
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]).catch(() => undefined);
    await Promise.all([pg.remove(), redis.remove(), kb.stop(), smtp.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One tenant created over the admin API and applied with nothing else going on: its run's length. */
async function floor(url: string): Promise<number> {
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
  const res = await fetch(`${url}/admin/tenants`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      tenantId: "soak-floor",
      customerId: "soak-floor",
      plan: "basic",
      odooVersion: "17",
    }),
  });
  if (res.status !== 202)
    throw new Error(`floor tenant not accepted: ${res.status} ${await res.text()}`);
  for (const deadline = Date.now() + 120000; Date.now() < deadline; await sleep(250)) {
    const t = (await (await fetch(`${url}/admin/tenants/soak-floor`, { headers })).json()) as {
      converged: boolean;
      lastError: string | null;
      lastOperation?: { startedAt: string; finishedAt: string };
    };
    if (t.lastError) throw new Error(`floor tenant failed: ${t.lastError}`);
    if (t.converged && t.lastOperation?.finishedAt)
      return Date.parse(t.lastOperation.finishedAt) - Date.parse(t.lastOperation.startedAt);
  }
  throw new Error("floor tenant not applied within 120 s");
}

async function compare(pg: SoakPostgres, expected: Map<string, { state: string; plan: string }>) {
  const rows = await pg
    .query(
      "api",
      `SELECT id, desired_state, observed_state, desired_generation, observed_generation,
              spec->>'plan' AS plan, outputs->>'plan' AS applied_plan, failed_generation,
              last_error FROM tenants`,
    )
    .catch(() => []);
  const byId = new Map(rows.map((r) => [r.id as string, r]));
  const out: string[] = [];
  for (const [id, want] of expected) {
    const t = byId.get(id);
    if (!t) out.push(`${id}: missing`);
    else if (t.desired_state !== want.state || t.plan !== want.plan)
      out.push(
        `${id}: wants ${t.desired_state}/${t.plan}, Kill Bill says ${want.state}/${want.plan}`,
      );
    else if (t.observed_generation !== t.desired_generation || t.observed_state !== t.desired_state)
      out.push(
        `${id}: observed ${t.observed_state}@${t.observed_generation} of ${t.desired_state}@${t.desired_generation}` +
          (t.failed_generation ? ` (gave up on ${t.failed_generation})` : "") +
          (t.last_error ? `: ${String(t.last_error).slice(0, 300)}` : ""),
      );
    else if (t.applied_plan !== want.plan) out.push(`${id}: stack applied ${t.applied_plan}`);
  }
  return out;
}

async function operationCounts(pg: SoakPostgres) {
  const rows = await pg.query(
    "api",
    "SELECT status, count(*)::int AS n FROM operations GROUP BY 1",
  );
  const n = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  return {
    succeeded: n("succeeded"),
    failed: n("failed"),
    abandoned: n("abandoned"),
    running: n("running"),
  };
}

const messageId = (m: ReceivedMail) => /^Message-ID: (.*)$/im.exec(m.raw)?.[1]?.trim() ?? "";

function resentMails(smtp: SmtpReceiver): string[] {
  const seen = new Set<string>();
  return smtp.messages.flatMap((m) => {
    const id = messageId(m);
    if (!seen.has(id)) return (seen.add(id), []);
    return [`${id} ${m.subject}`];
  });
}

function repeatedMails(smtp: SmtpReceiver): string[] {
  const last = new Map<string, ReceivedMail>();
  const repeated: string[] = [];
  for (const m of smtp.messages) {
    const to = m.to.join(",");
    const before = last.get(to);
    if (before?.subject === m.subject && messageId(before) !== messageId(m))
      repeated.push(`${messageId(before)} and ${messageId(m)}: ${m.subject}`);
    last.set(to, m);
  }
  return repeated;
}

function logLines(files: string[]) {
  const lines = files.flatMap((f) =>
    fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter(Boolean) : [],
  );
  const parsed = lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as { level: number; msg: string }];
    } catch {
      return []; // a line cut short by SIGKILL
    }
  });
  return {
    errorLines: parsed.filter((l) => l.level >= 50).map((l) => JSON.stringify(l).slice(0, 400)),
    outageLines: parsed
      .filter((l) => /unavailable|available again/.test(l.msg))
      .map((l) => JSON.stringify(l).slice(0, 300)),
  };
}
