import { loadCatalog } from "../../catalog";
import { tenantFixture } from "../../test/fixtures";
import type { Tenant } from "../domain/tenant";
import { changeSteps, moveSpecs, stackSpecOf } from "./change-plan";

const catalog = loadCatalog();
const applied = (patch: Record<string, unknown> = {}) => ({
  tenantId: "acme",
  customerId: "acme-corp",
  plan: "standard",
  odooVersion: "17",
  adminEmail: "o@acme.example",
  state: "active",
  databases: { serving: "shared", kept: [] },
  ...patch,
});
/** A tenant converged on standard (shared database), then changed by `patch`. */
const changed = (patch: Partial<Tenant>) =>
  tenantFixture({ appliedSpec: applied(), desiredGeneration: 4, ...patch });
const plan = (id: string) => ({
  spec: { plan: id, odooVersion: "17", adminEmail: "o@acme.example" },
});

describe("stackSpecOf: the stack is given its databases where they are", () => {
  it.each<[string, Partial<Tenant>, object]>([
    [
      "a new tenant: the plan's placement",
      { databasePlacement: null, ...plan("premium") },
      { serving: "dedicated", kept: [] },
    ],
    ["a plan alone never moves the database", plan("premium"), { serving: "shared", kept: [] }],
    [
      "a database a move left behind is kept",
      {
        databasePlacement: "dedicated",
        retiredDatabases: [{ placement: "shared", keptUntil: "2027-01-01" }],
      },
      { serving: "dedicated", kept: ["shared"] },
    ],
    [
      "a move under way keeps its target",
      {
        ...plan("premium"),
        databaseMove: {
          from: "shared",
          to: "dedicated",
          phase: "prepared",
          operationId: "o",
          startedAt: "",
        },
      },
      { serving: "shared", kept: ["dedicated"] },
    ],
    [
      "terminated is stopped like suspended",
      { desiredState: "terminated" },
      { serving: "shared", kept: [] },
    ],
  ])("%s", (_name, patch, databases) => {
    const spec = stackSpecOf(tenantFixture(patch), catalog);
    expect(spec.databases).toEqual(databases);
    expect(spec.state).toBe(patch.desiredState === "terminated" ? "suspended" : "active");
  });
});

describe("changeSteps: the state first, then the rest; a new placement moves the data", () => {
  it.each<[string, Partial<Tenant>, { access?: string; move?: string }]>([
    ["a resize alone: one step", plan("basic"), {}],
    ["a suspension alone: one step", { desiredState: "suspended" }, {}],
    [
      "suspended and resized: the suspension first",
      { desiredState: "suspended", ...plan("basic") },
      { access: "suspended on standard" },
    ],
    [
      "terminated and resized: stopped first",
      { desiredState: "terminated", ...plan("basic") },
      { access: "suspended on standard" },
    ],
    [
      "resumed and resized: running again (old plan) first",
      {
        observedState: "suspended",
        appliedSpec: applied({ state: "suspended" }),
        ...plan("basic"),
      },
      { access: "active on standard" },
    ],
    ["to a dedicated plan: a move", plan("premium"), { move: "shared -> dedicated" }],
    [
      "suspended on the way to a dedicated plan: suspension first, then the move",
      { desiredState: "suspended", ...plan("enterprise") },
      { access: "suspended on standard", move: "shared -> dedicated" },
    ],
    [
      "back from dedicated to shared: a move",
      {
        databasePlacement: "dedicated",
        appliedSpec: applied({ plan: "premium", databases: { serving: "dedicated", kept: [] } }),
        ...plan("basic"),
      },
      { move: "dedicated -> shared" },
    ],
    [
      "never provisioned: no move, whatever the plan",
      {
        observedState: null,
        observedGeneration: 0,
        appliedSpec: null,
        databasePlacement: null,
        ...plan("premium"),
      },
      {},
    ],
  ])("%s", (_name, patch, expected) => {
    const steps = changeSteps(changed(patch), catalog);
    expect({
      ...(steps.access ? { access: `${steps.access.state} on ${steps.access.plan}` } : {}),
      ...(steps.move ? { move: `${steps.move.from} -> ${steps.move.to}` } : {}),
    }).toEqual(expected);
  });

  it("the state step carries everything else as last applied, and the databases as they are", () => {
    const t = changed({
      desiredState: "suspended",
      ...plan("basic"),
      retiredDatabases: [{ placement: "dedicated", keptUntil: "x" }],
    });
    const { access, final } = changeSteps(t, catalog);
    expect(access).toMatchObject({
      plan: "standard",
      state: "suspended",
      databases: { serving: "shared", kept: ["dedicated"] },
    });
    expect(final).toMatchObject({ plan: "basic", state: "suspended" });
  });
});

describe("moveSpecs: neither step drops what the other declares", () => {
  it("prepared serves the source with the target running beside it; switched the reverse", () => {
    const final = stackSpecOf(changed({ ...plan("premium"), retiredDatabases: [] }), catalog);
    expect(moveSpecs(final, { from: "shared", to: "dedicated" })).toMatchObject({
      prepared: {
        plan: "premium",
        databases: { serving: "shared", kept: ["dedicated"], serversRunning: true },
      },
      switched: { plan: "premium", databases: { serving: "dedicated", kept: ["shared"] } },
    });
  });
});
