// bench/scale-out: tenant throughput with one and two worker processes on this machine, sharing
// PostgreSQL, Redis and a postgres:// state backend as worker hosts do (docs/api.md, "Adding worker
// hosts"). Each round starts its worker processes (bench/scale-out-worker.ts, the provider-free
// tenant program: the engine's work without Odoo), submits --tenants new tenants through the API
// (an HTTP-only process), and times them until all are converged; the whole machine's CPU beside.
// Run: npm run bench:scale-out [-- --tenants 16]
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { ADMIN_TOKEN, ApiHarness } from "../test/api-harness";
import { machineBusyTicks } from "./process-cpu";
import { numberArg } from "./stats";

const TENANTS = numberArg("tenants", 16);
const CORES = os.cpus().length;
const ADMIN = "postgres://odoo_saas:odoo_saas@127.0.0.1:5432";
const STATE_DB = `pulumi_scale_out_${process.pid}`;
const ROUNDS = [
  { processes: 1, concurrency: 1 },
  { processes: 2, concurrency: 1 },
  { processes: 1, concurrency: 2 },
  { processes: 2, concurrency: 2 },
];

async function sql(query: string) {
  const c = new Client(`${ADMIN}/odoo_saas`);
  await c.connect();
  try {
    await c.query(query);
  } finally {
    await c.end();
  }
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(__dirname, "scale-out-worker.ts")],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve(child));
    child.on("exit", (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function main() {
  await sql(`CREATE DATABASE ${STATE_DB}`);
  const h = new ApiHarness({
    env: {
      PULUMI_BACKEND_URL: `${ADMIN}/${STATE_DB}?sslmode=disable`,
      SHARED_POSTGRES_MAX_CONNECTIONS: "100000",
    },
  });
  await h.start({ workers: false }); // the HTTP side only: every engine run is a worker's
  const workDirs: string[] = [];
  try {
    console.log(`# bench/scale-out: ${TENANTS} new tenants per round, ${CORES} cores`);
    console.log("| worker processes | jobs each | tenants/min | wall (s) | machine CPU busy |");
    console.log("| ---: | ---: | ---: | ---: | ---: |");
    const rates: number[] = [];
    for (const [r, round] of ROUNDS.entries()) {
      const workers = await Promise.all(
        Array.from({ length: round.processes }, () => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scale-out-worker-"));
          workDirs.push(dir);
          return startWorker(
            h.env({
              RECONCILE_CONCURRENCY: String(round.concurrency),
              ODOO_SAAS_DATA_DIR: dir,
              PULUMI_BACKEND_URL: `${ADMIN}/${STATE_DB}?sslmode=disable`,
              SHARED_POSTGRES_MAX_CONNECTIONS: "100000",
            }),
          );
        }),
      );
      const ids = Array.from({ length: TENANTS }, (_, i) => `scale-r${r}-${i}`);
      const ticks = machineBusyTicks();
      const started = Date.now();
      for (const id of ids) {
        const res = await h
          .api()
          .post("/admin/tenants")
          .set({ Authorization: `Bearer ${ADMIN_TOKEN}` })
          .send({ tenantId: id, customerId: `${id}-corp`, plan: "basic", odooVersion: "18" });
        if (res.status !== 202) throw new Error(`${id}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      await Promise.all(
        ids.map((id) => h.converged(id, "active", { timeoutMs: 600_000, failOnError: true })),
      );
      const wall = (Date.now() - started) / 1000;
      const busy = (machineBusyTicks() - ticks) / 100 / (CORES * wall);
      const rate = TENANTS / (wall / 60);
      rates.push(rate);
      console.log(
        `| ${round.processes} | ${round.concurrency} | ${rate.toFixed(1)} | ${wall.toFixed(1)} | ${(busy * 100).toFixed(0)} % |`,
      );
      for (const w of workers) {
        const exited = new Promise((resolve) => w.once("exit", resolve));
        w.kill("SIGTERM");
        await exited;
      }
    }
    console.log(
      `two processes against one: ${(rates[1] / rates[0]).toFixed(2)}x at one job each, ` +
        `${(rates[3] / rates[2]).toFixed(2)}x at two`,
    );
  } finally {
    await h.stop();
    for (const d of workDirs) fs.rmSync(d, { recursive: true, force: true });
    await sql(`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
