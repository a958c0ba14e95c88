import type Dockerode from "dockerode";

/** What the engine says of a tenant's Odoo runtime. */
export type RuntimeObservation = "running" | "starting" | "unhealthy" | "stopped" | "missing";

export interface RuntimeRef {
  runtime: "container" | "swarm";
  name: string;
}

/** The tenant's Odoo runtime as its last successful run left it; undefined before the first. */
export function runtimeRefOf(t: {
  outputs: Record<string, unknown> | null;
}): RuntimeRef | undefined {
  const name = t.outputs?.runtimeName;
  if (typeof name !== "string") return undefined;
  return { name, runtime: t.outputs?.runtime === "swarm" ? "swarm" : "container" };
}

/**
 * The tenant's Odoo runtime as the engine sees it, read back (not inferred from the last
 * operation), and the brief stop a restore needs. The stack still owns the runtime: a stop and
 * start here leave its declared state unchanged.
 */
export class TenantRuntime {
  private readonly docker: Dockerode;

  constructor(docker?: Dockerode) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Docker = require("dockerode") as typeof import("dockerode");
    this.docker = docker ?? new Docker();
  }

  private recent?: { at: number; seen: Promise<Map<string, RuntimeObservation>> };

  /**
   * What the admin views show: one engine reading shared by every request within `maxAgeMs`
   * (concurrent requests wait for the same one), so a busy admin API does not keep the engine busy.
   */
  observeAllRecent(maxAgeMs = 2000): Promise<Map<string, RuntimeObservation>> {
    if (!this.recent || Date.now() - this.recent.at > maxAgeMs) {
      const seen = this.observeAll();
      this.recent = { at: Date.now(), seen };
      seen.catch(() => (this.recent = undefined)); // a failed reading is not kept
    }
    return this.recent.seen;
  }

  /** Every runtime at once (two engine calls whatever the fleet's size), by name. */
  async observeAll(): Promise<Map<string, RuntimeObservation>> {
    const seen = new Map<string, RuntimeObservation>();
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: ["odoo-saas.tenant"] },
    });
    for (const c of containers)
      for (const n of c.Names ?? [])
        seen.set(n.replace(/^\//, ""), containerState(c.State, c.Status));
    const services = await this.docker
      .listServices({ filters: { label: ["odoo-saas.tenant"] } })
      .catch(
        () => [], // not a Swarm manager: no services
      );
    if (services.length) {
      const tasks = await this.docker.listTasks({ filters: { "desired-state": ["running"] } });
      for (const s of services) {
        const name = s.Spec?.Name;
        if (!name) continue;
        const own = tasks.filter((t) => t.ServiceID === s.ID);
        const running = own.some((t) => t.Status?.State === "running");
        seen.set(name, running ? "running" : own.length ? "starting" : "stopped");
      }
    }
    return seen;
  }

  async observe(ref: RuntimeRef): Promise<RuntimeObservation> {
    return (await this.observeAll()).get(ref.name) ?? "missing";
  }

  /** Stops the runtime; whether it was running (so `start` is called only then). */
  async stop(ref: RuntimeRef): Promise<boolean> {
    if (ref.runtime === "container") {
      const c = this.docker.getContainer(ref.name);
      const state = await c.inspect().then(
        (i) => i.State?.Running,
        () => false,
      );
      if (state) await c.stop({ t: 20 });
      return !!state;
    }
    const service = this.docker.getService(ref.name);
    const spec = await service.inspect().catch(() => undefined);
    const replicas = spec?.Spec?.Mode?.Replicated?.Replicas ?? 0;
    if (!replicas) return false;
    await service.update({
      ...spec.Spec,
      version: spec.Version.Index,
      Mode: { Replicated: { Replicas: 0 } },
    });
    return true;
  }

  /** Starts the runtime; a no-op when it runs already. */
  async start(ref: RuntimeRef): Promise<void> {
    if (ref.runtime === "container") {
      const c = this.docker.getContainer(ref.name);
      if (!(await c.inspect()).State?.Running) await c.start();
      return;
    }
    const service = this.docker.getService(ref.name);
    const spec = await service.inspect();
    if (spec.Spec?.Mode?.Replicated?.Replicas === 1) return;
    await service.update({
      ...spec.Spec,
      version: spec.Version.Index,
      Mode: { Replicated: { Replicas: 1 } },
    });
  }
}

function containerState(state: string, status: string): RuntimeObservation {
  if (state !== "running") return "stopped";
  if (status.includes("(health: starting)")) return "starting";
  if (status.includes("(unhealthy)")) return "unhealthy";
  return "running";
}
