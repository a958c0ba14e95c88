// The admission rule of the shared PostgreSQL server holds under load: as many trial tenants as it
// admits, every one under its plan's load at once, on the platform's PostgreSQL image, are never
// refused a connection (by their pools, their roles or the server), and the next one is refused
// admission; directly, and through the platform's PgBouncer, where the same server admits more.
// The tenants run the Odoo stand-in, whose processes keep connections as Odoo's pools do.
import { loadCatalog } from "../catalog";
import {
  type PoolerSizing,
  RESERVED_CONNECTIONS,
  sharedConnectionReservation,
  sharedPostgresAdmits,
} from "../components/platform/shared-postgres-capacity";
import { type LoadedTenant, SharedServer } from "./helpers/shared-server-load";

const catalog = loadCatalog();
const trial = catalog.plan("trial")!;
// Room for exactly four trials connecting directly beside the platform's reserve.
const MAX_CONNECTIONS = RESERVED_CONNECTIONS + 4 * trial.database.connectionLimit;

describe.each([
  ["directly", undefined, 4],
  ["through the pooler", { minTransactionPoolSize: 2 }, 9],
])(
  `a shared server of ${MAX_CONNECTIONS} connections, trials connecting %s`,
  (_how, pooler: PoolerSizing | undefined, admitted) => {
    const server = new SharedServer("density-test", MAX_CONNECTIONS, pooler);
    const tenants: LoadedTenant[] = [];

    beforeAll(() => server.start(), 90_000);
    afterAll(() => server.stop(), 60_000);

    it(`admits ${admitted} trials, and each gets every connection it needs under load`, async () => {
      const held: { id: string; plan: string }[] = [];
      for (let i = 0; i < admitted; i++) {
        const id = `dense_${i}`;
        expect(
          sharedPostgresAdmits(
            catalog,
            MAX_CONNECTIONS,
            held,
            { tenantId: id, plan: "trial" },
            pooler,
          ),
        ).toEqual({ ok: true });
        held.push({ id, plan: "trial" });
      }
      expect(
        sharedPostgresAdmits(
          catalog,
          MAX_CONNECTIONS,
          held,
          { tenantId: "next", plan: "trial" },
          pooler,
        ).ok,
      ).toBe(false);
      for (let i = 0; i < held.length; i += 3)
        tenants.push(
          ...(await Promise.all(held.slice(i, i + 3).map((h) => server.addTenant(h.id, trial)))),
        );

      const load = await server.load(tenants, 10);
      expect(load.requests).toBeGreaterThan(100);
      expect(load.failed).toBe(0);
      const reserved = sharedConnectionReservation(trial, pooler);
      for (const t of tenants) {
        const pools = await server.pools(t);
        expect(pools.filter((p) => p.refused > 0)).toEqual([]);
        // The load used what the plan gives: its gevent worker's whole pool, its cron worker's three.
        expect(pools.find((p) => p.process === "gevent")?.peak).toBe(trial.odoo.dbMaxConnections);
        expect(pools.find((p) => p.process === "cron-0")?.peak).toBe(3);
        expect(load.peakByRole.get(t.id)).toBeLessThanOrEqual(reserved);
      }
      // The tenants stay within what they reserve; the platform's own (this test's connection, the
      // pooler's secret lookups, at most four) within its reserve.
      const tenantsPeak = tenants.reduce((n, t) => n + (load.peakByRole.get(t.id) ?? 0), 0);
      expect(tenantsPeak).toBeLessThanOrEqual(MAX_CONNECTIONS - RESERVED_CONNECTIONS);
      expect(load.peakByRole.get("admin")).toBeLessThanOrEqual(pooler ? 5 : 1);
    }, 300_000);

    if (pooler)
      it("a restarted pooler loses only what was in flight: the tenants reconnect by themselves", async () => {
        await server.restartPoolers();
        // Odoo's pools find their dead connections at the next borrow and open new ones; cron and
        // bus workers LISTEN again.
        const after = await server.load(tenants, 5);
        expect(after.requests).toBeGreaterThan(50);
        expect(after.failed).toBe(0);
        // Each tenant's cron worker (cron_trigger) and bus worker (imbus) listen again.
        const listeners = await server.listenersByRole();
        expect(tenants.map((t) => listeners.get(t.id))).toEqual(tenants.map(() => 2));
        for (const t of tenants)
          expect(after.peakByRole.get(t.id)).toBeLessThanOrEqual(
            sharedConnectionReservation(trial, pooler),
          );
      }, 120_000);
  },
);
