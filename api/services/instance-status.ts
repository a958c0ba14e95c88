import type { Tenant } from "../domain/tenant";
import type { RuntimeObservation } from "./tenant-runtime";

/** The instance's status as the operator and the customer see it. */
export const INSTANCE_STATUSES = [
  "creating",
  "running",
  "sleeping",
  "stopped",
  "paused",
  "terminated",
  "deleted",
  "error",
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/**
 * Derives the status from what the tenant should be, what was last applied, and what the engine
 * reports of its runtime now: an instance meant to run whose container died is an error, not
 * "running" because its last operation succeeded.
 */
export function instanceStatus(
  t: Pick<
    Tenant,
    | "desiredState"
    | "observedState"
    | "observedGeneration"
    | "desiredGeneration"
    | "lastError"
    | "suspendReason"
    | "sleepingSince"
    | "appliedSpec"
  >,
  runtime: RuntimeObservation | undefined,
): InstanceStatus {
  const converged = t.observedGeneration >= t.desiredGeneration;
  // A failing change whose state part was applied (suspended while a plan change fails) shows that
  // state; the failing rest shows in the tenant's `pending`.
  if (t.lastError && !converged && t.observedState !== t.desiredState) return "error";
  if (t.observedGeneration === 0 && t.observedState === null) return "creating";
  const state = converged ? t.desiredState : t.observedState;
  switch (state) {
    case "deleted":
      return "deleted";
    case "terminated":
      return "terminated";
    case "suspended":
      return t.suspendReason === "operator" ? "stopped" : "paused";
    case "active":
      // Idle, stopped on purpose (billing lets it run): until its wake has been applied.
      if (converged ? t.sleepingSince : t.appliedSpec?.state === "sleeping") return "sleeping";
      // Starting after a restart (or its first health checks after the `up`): it exists and runs.
      if (runtime === "running" || runtime === "starting" || runtime === undefined)
        return "running";
      return "error";
    default:
      return "creating";
  }
}
