// The admission rule of the shared PostgreSQL server holds under load: as many trial tenants as it
// admits, every one under its plan's load at once, on the platform's PostgreSQL image, are never
// refused a connection (by their pools, their roles or the server), and the next one is refused
// admission. The tenants run the Odoo stand-in, whose processes keep connections as Odoo's pools do.
import { loadCatalog } from "../catalog";
import {
  RESERVED_CONNECTIONS,
  sharedPostgresAdmits,
} from "../components/platform/shared-postgres-capacity";
import { type LoadedTenant, SharedServer } from "./helpers/shared-server-load";

const catalog = loadCatalog();
const trial = catalog.plan("trial")!;
const ADMITTED = 4;
// Room for exactly four trials beside the platform's reserve.
const server = new SharedServer(
  "density-test",
  RESERVED_CONNECTIONS + ADMITTED * trial.database.connectionLimit,
);
const tenants: LoadedTenant[] = [];

beforeAll(() => server.start(), 90_000);
afterAll(() => server.stop(), 60_000);

it("admits trials up to the server's connections, and each admitted one gets every connection it needs under load", async () => {
  const held: { id: string; plan: string }[] = [];
  for (let i = 0; i < ADMITTED; i++) {
    const id = `dense_${i}`;
    expect(
      sharedPostgresAdmits(catalog, server.maxConnections, held, { tenantId: id, plan: "trial" }),
    ).toEqual({ ok: true });
    held.push({ id, plan: "trial" });
    tenants.push(await server.addTenant(id, trial));
  }
  expect(
    sharedPostgresAdmits(catalog, server.maxConnections, held, {
      tenantId: "one-more",
      plan: "trial",
    }).ok,
  ).toBe(false);

  const load = await server.load(tenants, 10);
  expect(load.requests).toBeGreaterThan(100);
  expect(load.failed).toBe(0);
  for (const t of tenants) {
    const pools = await server.pools(t);
    expect(pools.filter((p) => p.refused > 0)).toEqual([]);
    // The load used what the plan gives: its gevent worker's whole pool, its cron worker's three.
    expect(pools.find((p) => p.process === "gevent")?.peak).toBe(trial.odoo.dbMaxConnections);
    expect(pools.find((p) => p.process === "cron-0")?.peak).toBe(3);
    expect(load.peakByRole.get(t.id)).toBeLessThanOrEqual(trial.database.connectionLimit);
  }
  expect(load.peak).toBeLessThanOrEqual(server.maxConnections - RESERVED_CONNECTIONS);
}, 240_000);
