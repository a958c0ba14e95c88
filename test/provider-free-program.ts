// A provider-free stand-in for the tenant program, for suites where the docker and postgresql
// resource plugins are not installed. It declares a ComponentResource and a dynamic-provider
// resource (run by `pulumi-resource-pulumi-nodejs`, shipped in @pulumi/pulumi) whose inputs come
// from the spec, so plan changes show up as real property diffs, and it generates the database
// password into its state exactly like the real program.
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { loadCatalog, type Catalog } from "../catalog";
import type { TenantSpec } from "../stacks/tenant/tenant-spec";
import { GeneratedSecret } from "../components/tenant/generated-secret";

/**
 * With a `worldDir`, the record also exists outside the engine, as `<worldDir>/<tenantId>.json`
 * (what a container is to the docker provider): refresh reads it back, so a test can change or
 * delete it out of band and see drift.
 */
const recordProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    if (inputs.failWith) throw new Error(inputs.failWith);
    writeWorld(inputs);
    return { id: `record-${inputs.tenantId}`, outs: inputs };
  },
  async update(_id, _olds, news) {
    if (news.failWith) throw new Error(news.failWith);
    writeWorld(news);
    return { outs: news };
  },
  // Compared property by property, so an out-of-band change shows which one differs.
  async diff(_id, olds, news) {
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter(
      (k) => k !== "__provider" && JSON.stringify(olds[k]) !== JSON.stringify(news[k]),
    );
    return { changes: keys.length > 0, diffs: keys };
  },
  // Removes the record, then fails when told to, as the docker provider's delete of a Swarm
  // service does when its containers outlast the stop grace period.
  async delete(_id, props) {
    if (!props.worldDir) return;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require("node:fs") as typeof import("node:fs");
    fs.rmSync(`${props.worldDir}/${props.tenantId}.json`, { force: true });
    if (props.failDeleteWith) throw new Error(props.failDeleteWith);
  },
  async read(id, props) {
    if (!props?.worldDir) return { id, props };
    const file = `${props.worldDir}/${props.tenantId}.json`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require("node:fs") as typeof import("node:fs");
    if (!fs.existsSync(file)) return {}; // gone: deleted out of band
    return { id, props: JSON.parse(fs.readFileSync(file, "utf8")) };
  },
};

function writeWorld(outs: Record<string, unknown>): void {
  if (!outs.worldDir) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require("node:fs") as typeof import("node:fs");
  fs.mkdirSync(String(outs.worldDir), { recursive: true });
  fs.writeFileSync(`${outs.worldDir}/${outs.tenantId}.json`, JSON.stringify(outs));
}

class TenantRecord extends pulumi.dynamic.Resource {
  declare readonly plan: pulumi.Output<string>;
  constructor(
    name: string,
    props: Record<string, pulumi.Input<unknown>>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(recordProvider, name, { plan: undefined, ...props }, opts);
  }
}

class StandInTenant extends pulumi.ComponentResource {
  readonly record: TenantRecord;
  constructor(
    name: string,
    spec: StandInSpec,
    limits: Record<string, number | undefined>,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("test:stand-in:Tenant", name, {}, opts);
    this.record = new TenantRecord(
      `${name}-record`,
      {
        tenantId: spec.tenantId,
        plan: spec.plan,
        state: spec.state,
        odooVersion: spec.odooVersion,
        failWith: spec.failWith,
        failDeleteWith: spec.failDeleteWith,
        worldDir: spec.worldDir,
        ...limits,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

export type StandInSpec = TenantSpec & {
  failWith?: string;
  failDeleteWith?: string;
  delayMs?: number;
  worldDir?: string;
};

/** The stand-in's record carries the plan's limits, so a catalog change shows as a diff. */
export function providerFreeTenantProgram(
  spec: StandInSpec,
  catalog: Catalog = loadCatalog(),
): PulumiFn {
  const plan = catalog.plan(spec.plan);
  return async () => {
    if (spec.delayMs) await new Promise((r) => setTimeout(r, spec.delayMs));
    const password = new GeneratedSecret(`${spec.tenantId}-database-password`, {
      initial: new pulumi.Config("tenant").getSecret("databasePassword"),
    }).value;
    const tenant = new StandInTenant(spec.tenantId, spec, {
      cpus: plan?.cpus,
      memoryMb: plan?.memoryMb,
      workers: plan?.odoo.workers,
    });
    return {
      url: `https://${spec.subdomain}.odoo.test`,
      hosts: [`${spec.subdomain}.odoo.test`, ...(spec.customDomains ?? [])],
      plan: tenant.record.plan,
      state: spec.state,
      databasePassword: pulumi.secret(password),
    };
  };
}
