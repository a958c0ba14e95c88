import { SingleBar } from "cli-progress";
import type { RolloutEvent } from "../automation/rollout";

/** The summary and the stop, in words (stdout); the rest is progress (stderr). */
function summary(e: RolloutEvent): string | undefined {
  if (e.event === "rollout-finished")
    return `fleet up: ${e.succeeded} succeeded, ${e.failed} failed`;
  if (e.event === "rollout-stopped")
    return (
      `fleet up stopped: ${e.reason}; ${e.succeeded} succeeded, ${e.failed} failed, ` +
      `${e.remaining} not done. Fix the cause, then continue with --resume.`
    );
  return undefined;
}

function progressLine(e: RolloutEvent): string | undefined {
  switch (e.event) {
    case "rollout-started":
      return e.resumed
        ? `resuming the rollout: ${e.remaining} of ${e.tenants} tenants left`
        : `rollout of ${e.tenants} tenant${e.tenants === 1 ? "" : "s"}, canary ${e.canary}`;
    case "batch-started":
      return `batch ${e.batch}${e.canary ? " (canary)" : ""}: ${e.tenants.join(", ")}`;
    case "tenant-done":
      return `${e.tenantId}: done (${e.seconds.toFixed(1)}s)`;
    case "tenant-failed":
      return `${e.tenantId}: ${e.stage} failed: ${e.error}`;
    case "tenant-restored":
      return `${e.tenantId}: backup ${e.backupId} restored`;
    default:
      return undefined;
  }
}

/**
 * How a rollout shows its progress: one JSON line per event (`--json`), a progress bar on a
 * terminal, or else a line per event on stderr; the outcome in one line on stdout.
 */
export function rolloutReporter(
  json: boolean,
  terminal: NodeJS.WritableStream | undefined,
  out: (text: string) => void,
  err: (text: string) => void,
): (e: RolloutEvent) => void {
  if (json) return (e) => out(JSON.stringify(e));
  let bar: SingleBar | undefined;
  const problems: string[] = [];
  return (e) => {
    if (terminal) {
      if (e.event === "rollout-started") {
        bar = new SingleBar({
          stream: terminal,
          format: "fleet up |{bar}| {value}/{total} {last}",
          hideCursor: true,
        });
        bar.start(e.tenants, e.tenants - e.remaining, { last: "" });
      } else if (e.event === "tenant-done" || e.event === "tenant-failed") {
        if (e.event === "tenant-failed") problems.push(progressLine(e)!);
        bar?.increment({ last: progressLine(e) });
      } else if (e.event === "rollout-finished" || e.event === "rollout-stopped") {
        bar?.stop();
        for (const p of problems) err(p);
      }
    } else {
      const line = progressLine(e);
      if (line) err(line);
    }
    const done = summary(e);
    if (done) out(done);
  };
}
