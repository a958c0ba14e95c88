// The API (real tenant program) on a real platform of its own, and what e2e suites ask of it: the
// tenant view, convergence, operations, and the Odoo stand-in's attachments through Traefik.
import request from "supertest";
import type { Runtime } from "../../components/workload";
import { ADMIN_TOKEN, ApiHarness, eventually } from "../api-harness";
import {
  apiEnvFor,
  BASE_DOMAIN,
  request as viaTraefik,
  startPlatform,
  sweepTenants,
  waitReachable,
  type E2EPlatform,
  type PlatformName,
} from "./platform";

export const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
export const hostOf = (id: string) => `${id}.${BASE_DOMAIN}`;

export interface ApiOnPlatform {
  readonly p: E2EPlatform;
  readonly h: ApiHarness;
  api(): ReturnType<typeof request>;
  view(id: string): Promise<any>;
  /** Waits until the tenant is converged in `state`; its own error fails at once. */
  converged(id: string, state: string): Promise<any>;
  /** Waits until an operation succeeded (fails on `failed`). */
  operationDone(opId: string): Promise<any>;
  /** The stand-in's attachments (name, and whether the file is on disk), once it answers. */
  attachments(id: string): Promise<string[]>;
  attach(id: string, name: string, content?: string): Promise<void>;
}

/**
 * Registers beforeAll/afterAll: a platform on `runtime` and the API on it (with `now` as its
 * clock, `env` over its settings); afterwards every tenant stack, the platform and anything
 * `tenantIds` left are removed.
 */
export function apiOnPlatform(
  runtime: Runtime,
  name: PlatformName,
  tenantIds: string[],
  opts: {
    now?: () => Date;
    /** The API's settings over the suite's (a function: read once the platform's preparation ran). */
    env?: Record<string, string> | (() => Record<string, string>);
    /** Prepares the platform's engine first (a cluster) and gives more of its options. */
    platform?: () => Promise<Omit<NonNullable<Parameters<typeof startPlatform>[2]>, "tenants">>;
    /** After the platform is gone (the cluster's teardown). */
    afterPlatform?: () => Promise<void>;
  } = {},
): ApiOnPlatform {
  let p: E2EPlatform;
  let h: ApiHarness;
  beforeAll(async () => {
    const more = (await opts.platform?.()) ?? {};
    p = await startPlatform(runtime, name, { ...more, tenants: tenantIds });
    const env = typeof opts.env === "function" ? opts.env() : opts.env;
    h = new ApiHarness({ realProgram: true, env: { ...apiEnvFor(p), ...env }, now: opts.now });
    await h.start();
  }, 300_000);
  afterAll(async () => {
    try {
      await h?.stop();
      for (const id of p ? await p.tenants.list().catch(() => [] as string[]) : [])
        await p.tenants.destroy(id).catch(() => undefined);
      await p?.teardown();
    } finally {
      await sweepTenants(tenantIds);
      await opts.afterPlatform?.();
    }
  }, 300_000);

  const api = () => request(h.runtime.url!);
  const view = async (id: string) => (await api().get(`/admin/tenants/${id}`).set(auth)).body;
  const reachable = (id: string) => waitReachable(p, hostOf(id), 180_000);
  return {
    get p() {
      return p;
    },
    get h() {
      return h;
    },
    api,
    view,
    converged: (id, state) => h.converged(id, state, { timeoutMs: 240_000, failOnError: true }),
    operationDone: (opId) =>
      eventually(
        async () => {
          const op = (await api().get(`/admin/operations/${opId}`).set(auth)).body;
          if (op.status === "failed") throw new Error(`operation failed: ${op.error}`);
          return op.status === "succeeded" && op;
        },
        240_000,
        `operation ${opId}`,
      ),
    async attachments(id) {
      await reachable(id);
      const r = await viaTraefik(p.httpsPort, hostOf(id), "/stand-in/attachments");
      return (JSON.parse(r.body) as { name: string; on_disk: boolean }[]).map(
        (a) => `${a.name}${a.on_disk ? "" : " (missing on disk)"}`,
      );
    },
    async attach(id, name, content = name) {
      await reachable(id);
      const r = await viaTraefik(p.httpsPort, hostOf(id), "/stand-in/attachments", {
        method: "POST",
        body: { name, datas: Buffer.from(content).toString("base64") },
      });
      expect(r.status).toBe(201);
    },
  };
}
