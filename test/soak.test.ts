// The soak, short (CI): test/soak/soak-run.ts with the faults the long one injects (bench/soak.ts:
// `npm run bench:soak`), at a size this 2-core machine runs in about three minutes.
import { runSoak } from "./soak/soak-run";
import { PROVIDER_FREE, KILL_BILL_STAND_IN } from "./stand-ins";

describe(`the soak, short ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("two API processes under Kill Bill traffic and faults: nothing lost, nothing twice, every tenant converged", async () => {
    const report = await runSoak({
      tenants: 24,
      webhooks: 600,
      seconds: 90,
      seed: 17,
      faults: ["crash", "redis", "postgres"],
      convergeTimeoutSeconds: 240,
      ports: { postgres: 16432, redis: 16380, apiA: 16501, apiB: 16502 },
      log: (line) => process.stderr.write(`[soak] ${line}\n`),
    });
    process.stderr.write(`[soak] report ${JSON.stringify(report)}\n`);
    expect(report.unexpectedExits).toBe(0);
    expect(report.faults.map((f) => f.kind)).toEqual(["crash", "redis", "postgres"]);
    expect(report.deliveries.handed).toBe(600);
    expect(report.deliveries.acknowledged).toBe(report.deliveries.handed);
    expect(report.deliveries.http500).toBe(0);
    expect(report.deliveries.refused503 + report.deliveries.connectionErrors).toBeGreaterThan(0);
    expect(report.lost).toBe(0);
    expect(report.unprocessed).toBe(0);
    expect(report.mismatches).toEqual([]);
    expect(report.operations.running).toBe(0);
    expect(report.duplicateApplies).toBe(0);
    expect(report.overlappingRuns).toBe(0);
    expect(report.resentMails).toEqual([]);
    expect(report.repeatedMails).toEqual([]);
    expect(report.errorLines).toEqual([]);
    expect(report.rss.endMb).toBeLessThan(report.rss.startMb * 1.5);
  }, 900_000);
});
