import { isLostJob, isOutage, OutageLog, REDIS_AWAY } from "./outage";

describe("isOutage", () => {
  it.each([
    [{ code: "ECONNREFUSED" }, true],
    [{ code: "57P01", message: "terminating connection due to administrator command" }, true],
    [{ code: "08006" }, true],
    [{ message: "Connection terminated unexpectedly" }, true],
    [{ message: "Connection is closed." }, true],
    [{ code: "23505", message: "duplicate key value violates unique constraint" }, false],
    [new Error("Missing key for job tenant-a. moveToFinished"), false],
    [undefined, false],
  ])("%j -> %s", (err, expected) => expect(isOutage(err)).toBe(expected));
});

describe("isLostJob", () => {
  it.each([
    ["Missing key for job tenant-a. moveToFinished", true],
    ["Lock mismatch for job tenant-a. Cmd moveToFinished from active", true],
    ["could not renew lock for job tenant-a", true],
    ["Missing lock for job inbox-12. moveToDelayed", true],
    ["connect ECONNREFUSED 127.0.0.1:6379", false],
    ["job tenant-a failed: Missing key for job", false],
  ])("%s -> %s", (message, expected) => expect(isLostJob(new Error(message))).toBe(expected));
});

describe("OutageLog", () => {
  it("says an outage once when it starts and once, with its count, when it ends", () => {
    const said: [string, object][] = [];
    const log = new OutageLog(
      { warn: (o, m) => said.push([m, o]), info: (o, m) => said.push([m, o]) },
      REDIS_AWAY,
    );
    log.recovered(); // nothing to end
    for (let i = 0; i < 40; i++) log.failed(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    log.recovered();
    log.recovered();
    expect(said).toEqual([
      [REDIS_AWAY.started, { error: "connect ECONNREFUSED 127.0.0.1:6379" }],
      [REDIS_AWAY.ended, { errors: 40, seconds: 0 }],
    ]);
  });
});
