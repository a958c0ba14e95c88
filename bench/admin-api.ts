// bench/admin-api: the admin API at fleet size. Seeds 10,000 tenants with 3 operations each into
// the API's real PostgreSQL, then 16 concurrent clients for a few seconds per request kind: the
// first page of GET /admin/tenants, a page deep in the fleet (by cursor), a filtered page, and
// GET /admin/tenants/{id} of random tenants; next to GET /healthz (no I/O) as the floor measured
// in the same run. Loopback only, bounded in time.
// Run: npm run bench:admin-api [-- --tenants 10000 --seconds 5 --clients 16]
import { ADMIN_TOKEN, ApiHarness } from "../test/api-harness";
import { encodeCursor } from "../api/services/tenant-service";
import { Worker } from "node:worker_threads";
import { median, numberArg, percentile } from "./stats";

const TENANTS = numberArg("tenants", 10000);
const SECONDS = numberArg("seconds", 5);
const CLIENTS = numberArg("clients", 16);
const idOf = (n: number) => `bench-${String(n).padStart(5, "0")}`;

/**
 * `clients` loops asking for `paths` (one picked at random each time) for `seconds`, in a worker
 * thread: the client's own work stays off the API's event loop. Every answer must be 200.
 */
function load(paths: string[], auth: boolean, base: string): Promise<number[]> {
  const code = `
    const { parentPort, workerData: w } = require("node:worker_threads");
    const latencies = [];
    const until = Date.now() + w.seconds * 1000;
    Promise.all(Array.from({ length: w.clients }, async () => {
      while (Date.now() < until) {
        const path = w.paths[Math.floor(Math.random() * w.paths.length)];
        const t0 = performance.now();
        const res = await fetch(w.base + path, { headers: w.headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(path + ": " + res.status);
        latencies.push(performance.now() - t0);
      }
    })).then(() => parentPort.postMessage(latencies), (e) => parentPort.postMessage(String(e)));`;
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {};
  const worker = new Worker(code, {
    eval: true,
    workerData: { paths, headers, base, seconds: SECONDS, clients: CLIENTS },
  });
  return new Promise((resolve, reject) =>
    worker.once("message", (m) => (Array.isArray(m) ? resolve(m) : reject(new Error(m)))),
  );
}

async function main() {
  const h = new ApiHarness();
  await h.start({ workers: false }); // the HTTP side alone, as an API replica serves it
  try {
    const t0 = Date.now();
    await h.runtime.pool.query(
      `INSERT INTO tenants (id, customer_id, spec, desired_state, desired_generation,
         observed_generation, observed_state, outputs, source, last_error)
       SELECT 'bench-' || lpad(n::text, 5, '0'), 'customer-' || n,
              jsonb_build_object('plan', (ARRAY['basic','standard','premium'])[1 + n % 3],
                                 'odooVersion', '17', 'customDomains', '[]'::jsonb),
              (ARRAY['active','active','active','suspended','terminated'])[1 + n % 5],
              3, CASE WHEN n % 50 = 0 THEN 2 ELSE 3 END,
              (ARRAY['active','active','active','suspended','terminated'])[1 + n % 5],
              jsonb_build_object('url', 'https://bench-' || n || '.example', 'runtimeName', 'odoo-bench-' || n),
              'admin', CASE WHEN n % 100 = 0 THEN 'engine run failed' END
         FROM generate_series(1, $1) AS n`,
      [TENANTS],
    );
    await h.runtime.pool.query(
      `INSERT INTO operations (tenant_id, type, generation, status, started_at, finished_at)
       SELECT 'bench-' || lpad(n::text, 5, '0'), 'up', g, 'succeeded',
              now() - (4 - g) * interval '1 day', now() - (4 - g) * interval '1 day' + interval '5 s'
         FROM generate_series(1, $1) AS n, generate_series(1, 3) AS g`,
      [TENANTS],
    );
    await h.runtime.pool.query("ANALYZE tenants; ANALYZE operations");
    console.log(
      `# bench/admin-api: ${TENANTS} tenants, ${TENANTS * 3} operations seeded in ${Date.now() - t0} ms; ${CLIENTS} clients, ${SECONDS} s each`,
    );

    const base = h.runtime.url!;
    const middle = encodeCursor(idOf(Math.floor(TENANTS / 2)));
    const randomIds = Array.from(
      { length: 1000 },
      () => `/admin/tenants/${idOf(1 + Math.floor(Math.random() * TENANTS))}`,
    );
    const cases: [string, string[], boolean][] = [
      ["GET /healthz (floor)", ["/healthz"], false],
      ["GET /admin/tenants (first page, default 50)", ["/admin/tenants"], true],
      ["GET /admin/tenants?limit=100", ["/admin/tenants?limit=100"], true],
      ["GET /admin/tenants?cursor= (mid-fleet)", [`/admin/tenants?cursor=${middle}`], true],
      [
        "GET /admin/tenants?state=suspended&plan=standard",
        ["/admin/tenants?state=suspended&plan=standard"],
        true,
      ],
      ["GET /admin/tenants?lagging=true", ["/admin/tenants?lagging=true"], true],
      ["GET /admin/tenants/{id} (random)", randomIds, true],
    ];
    // Warm-up, not measured: the pool's connections, the JIT, the engine reading's cache.
    await load(["/admin/tenants", ...randomIds.slice(0, 10)], true, base);
    let floor = 0;
    for (const [name, paths, auth] of cases) {
      const latencies = await load(paths, auth, base);
      const r = {
        p50: median(latencies),
        p95: percentile(latencies, 95),
        rate: latencies.length / SECONDS,
      };
      if (!floor) floor = r.p50;
      console.log(
        `${name.padEnd(52)} p50 ${r.p50.toFixed(1).padStart(6)} ms   p95 ${r.p95.toFixed(1).padStart(6)} ms   ${r.rate.toFixed(0).padStart(5)} req/s   p50/floor ${(r.p50 / floor).toFixed(1)}`,
      );
    }
  } finally {
    await h.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
