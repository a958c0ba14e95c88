// bench/soak: the soak at full size (test/soak/soak-run.ts; CI runs it short in test/soak.test.ts):
// two API processes on one PostgreSQL (store and postgres:// state backend) and Redis, Kill Bill
// stand-in traffic to either, one process SIGKILLed and restarted, Redis lost for 20 s, PostgreSQL
// stopped for 20 s. Prints the report, with the engine-run floor measured in the same run; exits
// non-zero if any guarantee failed. Loopback only.
// Run: npm run bench:soak [-- --tenants 200 --webhooks 5000 --seconds 300 --seed 1]
import { runSoak, type SoakReport } from "../test/soak/soak-run";
import { numberArg } from "./stats";

/** What must hold at the end; each failed one is named. */
function broken(r: SoakReport, webhooks: number): string[] {
  const d = r.deliveries;
  return [
    [d.handed === webhooks, `${d.handed} of ${webhooks} webhooks sent`],
    [d.acknowledged === d.handed, `${d.handed - d.acknowledged} never acknowledged`],
    [d.http500 === 0, `${d.http500} answered 500`],
    [r.lost === 0, `${r.lost} acknowledged but not stored`],
    [r.unprocessed === 0, `${r.unprocessed} stored but not processed`],
    [r.mismatches.length === 0, `not converged: ${r.mismatches.join("; ")}`],
    [r.operations.running === 0, `${r.operations.running} operations left running`],
    [r.duplicateApplies === 0, `${r.duplicateApplies} generations applied twice`],
    [r.overlappingRuns === 0, `${r.overlappingRuns} overlapping runs of one tenant`],
    [r.resentMails.length === 0, `${r.resentMails.length} mails received twice`],
    [r.repeatedMails.length === 0, `${r.repeatedMails.length} repeated mails`],
    [r.errorLines.length === 0, `${r.errorLines.length} error log lines`],
    [r.unexpectedExits === 0, `${r.unexpectedExits} API processes died`],
  ]
    .filter(([ok]) => !ok)
    .map(([, what]) => what as string);
}

async function main() {
  const webhooks = numberArg("webhooks", 5000);
  const report = await runSoak({
    tenants: numberArg("tenants", 200),
    webhooks,
    seconds: numberArg("seconds", 300),
    seed: numberArg("seed", 1),
    // Fewer changes per tenant than in CI: two cores apply about one tenant change a second.
    changes: [1, 2],
    faults: ["crash", "redis", "postgres"],
    convergeTimeoutSeconds: numberArg("converge-timeout", 2400),
    ports: { postgres: 16442, redis: 16390, apiA: 16511, apiB: 16512 },
    log: (line) => console.log(`# ${line}`),
  });
  const d = report.deliveries;
  console.log(
    `# bench/soak: ${report.tenants} tenants, 2 API processes, faults ${report.faults.map((f) => `${f.kind}@${f.atSeconds}s/${f.downSeconds}s`).join(", ")}`,
  );
  console.log(
    `webhooks        ${d.handed} over ${report.seconds} s (${(d.handed / report.seconds).toFixed(1)}/s); ${d.attempts} attempts: ${d.refused503} × 503, ${d.connectionErrors} connection errors, ${d.http500} × 500`,
  );
  console.log(`inbox           ${report.lost} lost, ${report.unprocessed} unprocessed`);
  console.log(
    `tenants         ${report.tenants - report.mismatches.length}/${report.tenants} converged ${report.convergedAfterSeconds} s after the last webhook`,
  );
  console.log(
    `operations      ${report.operations.succeeded} succeeded, ${report.operations.failed} failed, ${report.operations.abandoned} abandoned, ${report.operations.running} running; ${report.duplicateApplies} duplicate, ${report.overlappingRuns} overlapping`,
  );
  console.log(
    `engine run      floor ${report.upFloorMs} ms alone, median ${report.upMedianMs} ms in the soak (ratio ${(report.upMedianMs / report.upFloorMs).toFixed(2)})`,
  );
  console.log(
    `API RSS (never killed)  ${report.rss.startMb} MB after warm-up, ${report.rss.endMb} MB at the end, peak ${report.rss.peakMb} MB (end/start ${(report.rss.endMb / report.rss.startMb).toFixed(2)})`,
  );
  console.log(
    `logs            ${report.errorLines.length} error lines; outages said: ${report.outageLines.length} lines`,
  );
  const failures = broken(report, webhooks);
  for (const f of failures) console.log(`FAILED: ${f}`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
