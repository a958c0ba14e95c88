/**
 * Inline programs run inside this process. When an engine process dies mid-run (killed, OOM),
 * the program keeps running and its next resource registration fails with gRPC UNAVAILABLE
 * (code 14) after the Automation API has already removed its per-run handlers: an unhandled
 * rejection that would crash the whole process, and every other tenant's run with it.
 * This guard absorbs exactly those (reporting them) and lets every other error crash as usual.
 */
let installed = false;

export function isOrphanedEngineRpcError(reason: unknown): boolean {
  const r = reason as { code?: unknown; details?: unknown } | null;
  return !!r && r.code === 14 && typeof r.details === "string";
}

export function installOrphanedRpcGuard(report: (reason: Error) => void = () => undefined): void {
  if (installed) return;
  installed = true;
  process.on("unhandledRejection", (reason) => {
    if (isOrphanedEngineRpcError(reason)) {
      report(reason as Error);
      return;
    }
    throw reason; // Node's default: an unhandled rejection is fatal.
  });
}
