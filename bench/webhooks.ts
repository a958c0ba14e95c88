// bench/webhooks: sustained load on POST /webhooks/killbill/<secret> (store in the inbox, answer
// 200), next to GET /healthz (no I/O) as the baseline measured in the same run, then a check that
// every acknowledged event is in the inbox. Loopback only, bounded in time.
// Run: npm run bench:webhooks [-- --seconds 10 --connections 16]
import autocannon from "autocannon";
import { Client } from "pg";
import { ApiHarness } from "../test/api-harness";
import { numberArg } from "./stats";

const SECONDS = numberArg("seconds", 10);
const CONNECTIONS = numberArg("connections", 16);

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) =>
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

async function main() {
  const h = new ApiHarness();
  await h.start({ workers: false }); // the endpoint alone: processing happens elsewhere
  try {
    const base = { connections: CONNECTIONS, duration: SECONDS };
    const health = await run({ ...base, url: `${h.runtime.url}/healthz` });
    const body = JSON.stringify({
      eventType: "SUBSCRIPTION_CREATION",
      objectType: "SUBSCRIPTION",
      objectId: "10000000-0000-4000-8000-000000000001",
      accountId: "00000000-0000-4000-8000-000000000001",
      metaData: JSON.stringify({
        actionType: "EFFECTIVE",
        bundleExternalKey: "bench",
        subscriptionChangeUndo: false,
      }),
    });
    const hooks = await run({
      ...base,
      url: `${h.runtime.url}/webhooks/killbill/${h.config.KILLBILL_WEBHOOK_SECRET}`,
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body,
    });
    const db = new Client(h.config.DATABASE_URL);
    await db.connect();
    const stored = Number((await db.query("SELECT count(*) FROM webhook_inbox")).rows[0].count);
    await db.end();
    const acknowledged = hooks["2xx"];
    const line = (name: string, r: autocannon.Result) =>
      console.log(
        `${name.padEnd(10)} ${r.requests.average.toFixed(0).padStart(6)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms   errors ${r.errors + r.non2xx}`,
      );
    console.log(`# bench/webhooks: ${CONNECTIONS} connections, ${SECONDS} s each, loopback`);
    line("healthz", health);
    line("webhook", hooks);
    console.log(
      `throughput ratio webhook/healthz: ${(hooks.requests.average / health.requests.average).toFixed(2)}`,
    );
    // Requests cut off when the load stops may be stored without their answer being counted.
    const lost = Math.max(0, acknowledged - stored);
    console.log(
      `acknowledged ${acknowledged}, stored ${stored} (${stored - acknowledged + lost} answered after the cut-off), lost ${lost}`,
    );
    if (lost > 0) process.exitCode = 1;
  } finally {
    await h.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
