import type { Tenant } from "../domain/tenant";
import { spreadOffset } from "./spread-offset";
import { instanceStatus } from "./instance-status";
import { backupBefore, noticeFor } from "./reconciler";

describe("noticeFor: the customer e-mail a transition deserves", () => {
  it.each([
    [null, "active", "ready"],
    ["deleted", "active", "ready"],
    ["active", "active", undefined], // a resize
    ["suspended", "active", "resumed"],
    ["terminated", "active", "reactivated"],
    ["active", "suspended", "suspended"],
    [null, "suspended", undefined],
    ["suspended", "suspended", undefined],
    ["active", "terminated", "terminated"],
    ["suspended", "terminated", "terminated"],
    ["terminated", "terminated", undefined],
    [null, "terminated", undefined],
    ["active", "deleted", "deleted"],
    ["terminated", "deleted", "deleted"],
    [null, "deleted", undefined], // never provisioned: nothing to tell
    ["deleted", "deleted", undefined],
  ] as const)("%s -> %s: %s", (previous, next, notice) => {
    expect(noticeFor(previous, next)).toBe(notice);
  });
});

const tenant = (patch: Partial<Tenant>): Tenant =>
  ({
    spec: { plan: "basic", odooVersion: "17" },
    desiredState: "active",
    observedState: "active",
    desiredGeneration: 2,
    observedGeneration: 1,
    outputs: { plan: "basic", odooVersion: "17" },
    lastError: null,
    suspendReason: null,
    ...patch,
  }) as Tenant;

describe("backupBefore: the backup an operation takes first", () => {
  it.each<[string, Partial<Tenant>, string | undefined]>([
    ["first provisioning", { observedState: null, observedGeneration: 0 }, undefined],
    ["a plan change", { spec: { plan: "standard", odooVersion: "17" } }, "pre-change"],
    ["an Odoo version change", { spec: { plan: "basic", odooVersion: "18" } }, "pre-change"],
    [
      "a plan change while suspended (nothing runs, nothing changes)",
      { observedState: "suspended", spec: { plan: "standard", odooVersion: "17" } },
      undefined,
    ],
    ["suspend", { desiredState: "suspended" }, undefined],
    ["terminate", { desiredState: "terminated" }, "pre-terminate"],
    [
      "terminated again (a duplicate)",
      { desiredState: "terminated", observedState: "terminated" },
      undefined,
    ],
    ["destroy", { desiredState: "deleted" }, "pre-destroy"],
    [
      "destroy a terminated tenant",
      { desiredState: "deleted", observedState: "terminated" },
      "pre-destroy",
    ],
    [
      "destroy what was never provisioned",
      { desiredState: "deleted", observedState: null },
      undefined,
    ],
  ])("%s -> %s", (_name, patch, reason) => {
    expect(backupBefore(tenant(patch))).toBe(reason);
  });
});

describe("instanceStatus: from the desired state and the runtime the engine reports", () => {
  const converged = { observedGeneration: 2, desiredGeneration: 2 };
  it.each<[string, Partial<Tenant>, Parameters<typeof instanceStatus>[1], string]>([
    ["never applied yet", { observedGeneration: 0, observedState: null }, undefined, "creating"],
    ["running and healthy", converged, "running", "running"],
    ["starting (a restart, or its first health checks)", converged, "starting", "running"],
    ["its container died", converged, "stopped", "error"],
    ["its container was removed by hand", converged, "missing", "error"],
    ["the engine could not be read", converged, undefined, "running"],
    [
      "a failed first provisioning",
      { lastError: "boom", observedState: null, observedGeneration: 0 },
      undefined,
      "error",
    ],
    [
      "a failed suspension (still running)",
      { lastError: "boom", desiredState: "suspended" },
      "running",
      "error",
    ],
    // Its state is what it should be; the failing plan change shows in the tenant's `pending`.
    ["a failed resize: running on its old plan", { lastError: "boom" }, "running", "running"],
    [
      "suspended while its plan change fails",
      {
        lastError: "boom",
        desiredState: "suspended",
        observedState: "suspended",
        suspendReason: "payment_failed",
      },
      "missing",
      "paused",
    ],
    ["a resize in progress", {}, "running", "running"],
    [
      "suspended for an unpaid balance",
      { ...converged, desiredState: "suspended", suspendReason: "overdue" },
      "missing",
      "paused",
    ],
    [
      "held by an operator",
      { ...converged, desiredState: "suspended", suspendReason: "operator" },
      "missing",
      "stopped",
    ],
    [
      "asleep (its runtime stopped on purpose)",
      { ...converged, sleepingSince: "2026-12-05T08:00:00Z" },
      "missing",
      "sleeping",
    ],
    [
      "being woken: asleep until the wake is applied",
      {
        observedGeneration: 2,
        desiredGeneration: 3,
        sleepingSince: null,
        appliedSpec: { state: "sleeping" },
      },
      "missing",
      "sleeping",
    ],
    [
      "suspended by billing: paused, whatever its sleep",
      {
        ...converged,
        desiredState: "suspended",
        suspendReason: "payment_failed",
        sleepingSince: "2026-12-05T08:00:00Z",
      },
      "missing",
      "paused",
    ],
    ["terminated", { ...converged, desiredState: "terminated" }, "missing", "terminated"],
    ["deleted", { ...converged, desiredState: "deleted" }, "missing", "deleted"],
  ])("%s -> %s", (_name, patch, runtime, status) => {
    expect(instanceStatus(tenant(patch), runtime)).toBe(status);
  });
});

describe("spreadOffset: each tenant's own start in the nightly window", () => {
  it("is stable, inside the window, and spreads tenants out", () => {
    const window = 2 * 3600_000;
    expect(spreadOffset("acme", window)).toBe(spreadOffset("acme", window));
    const offsets = Array.from({ length: 200 }, (_, i) => spreadOffset(`t${i}`, window));
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(window);
    // 200 tenants over 8 quarter-hours: no quarter gets more than twice its share.
    const quarters = new Array(8).fill(0);
    for (const o of offsets) quarters[Math.floor(o / (window / 8))]++;
    expect(Math.max(...quarters)).toBeLessThan(50);
    expect(spreadOffset("acme", 0)).toBe(0);
  });
});
