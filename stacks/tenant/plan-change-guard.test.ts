// The guard: no plan change in the catalog may delete a stateful resource (a database, a volume).
// For every ordered pair of plans, the stack specs the API's reconciler applies for the change
// (api/services/change-plan.ts: the state first, then the plan or a database move in its two
// steps) are declared through the real tenant program, and each must keep every stateful
// resource the tenant had on its old plan. A new plan, or a change to the program, that would drop
// one fails here before it reaches a customer.
import * as pulumi from "@pulumi/pulumi";
import { defaultTenantSettings, tenantFixture } from "../../test/fixtures";
import { ResourceRecorder } from "../../test/pulumi-mocks";

const platformStack = "organization/odoo-saas-platform/prod";
const recorder = new ResourceRecorder({
  [platformStack]: {
    outputs: { tenantSettings: defaultTenantSettings, postgresAdminPassword: "pg-admin" },
    secret: ["postgresAdminPassword"],
  },
});
let program: typeof import("./program");
let changes: typeof import("../../api/services/change-plan");
let catalog: import("../../catalog").Catalog;

beforeAll(async () => {
  await recorder.install();
  pulumi.runtime.setAllConfig(
    {
      "tenant:databasePassword": "tenant-secret",
      "tenant:databaseSuperuserPassword": "superuser-secret",
    },
    ["tenant:databasePassword", "tenant:databaseSuperuserPassword"],
  );
  program = await import("./program");
  changes = await import("../../api/services/change-plan");
  catalog = (await import("../../catalog")).loadCatalog();
});

/** What a spec declares that holds customer data. */
async function statefulResources(spec: unknown): Promise<string[]> {
  recorder.resources.splice(0);
  const { parseTenantSpec } = await import("./tenant-spec");
  await program.tenantProgram(parseTenantSpec(spec, catalog), { platformStack, catalog })();
  await recorder.settle();
  return recorder.resources
    .filter((r) => r.type === "docker:index/volume:Volume" || r.name.endsWith("-database"))
    .map((r) => r.name)
    .sort();
}

describe("no plan change deletes a stateful resource", () => {
  const pairs = () =>
    catalog.plans.flatMap((from) =>
      catalog.plans.filter((to) => to.id !== from.id).map((to) => [from, to] as const),
    );

  it("covers every ordered pair of the catalog's plans", () => {
    expect(pairs().length).toBe(catalog.plans.length * (catalog.plans.length - 1));
  });

  it.each(["active", "suspended"] as const)(
    "a %s tenant keeps its databases and volumes through every step of every change",
    async (state) => {
      for (const [from, to] of pairs()) {
        const before = tenantFixture({
          spec: { plan: from.id, odooVersion: "17" },
          desiredState: state,
          observedState: state,
          databasePlacement: from.database.placement,
        });
        const had = await statefulResources(changes.stackSpecOf(before, catalog));
        const after = { ...before, spec: { ...before.spec, plan: to.id }, desiredGeneration: 4 };
        const steps = changes.changeSteps(after, catalog);
        const specs = steps.move
          ? Object.values(changes.moveSpecs(steps.final, steps.move))
          : [steps.final];
        for (const spec of [...(steps.access ? [steps.access] : []), ...specs]) {
          const declared = await statefulResources(spec);
          for (const resource of had)
            expect({
              change: `${from.id} -> ${to.id}`,
              kept: declared.includes(resource),
              resource,
            }).toEqual({ change: `${from.id} -> ${to.id}`, kept: true, resource });
        }
        // Where the plan puts the database differs: it is moved (copied), never created empty.
        expect(!!steps.move).toBe(from.database.placement !== to.database.placement);
      }
    },
  );
});
