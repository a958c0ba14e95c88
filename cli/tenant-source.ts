import * as fs from "node:fs";
import { Pool } from "pg";
import { z } from "zod";
import { stackSpecOf } from "../api/services/change-plan";
import { TenantStore } from "../api/store/tenant-store";
import { loadCatalog } from "../catalog";
import type { TenantSpecInput } from "../stacks/tenant/tenant-spec";

export class SourceError extends Error {
  override readonly name = "SourceError";
}

/**
 * Where the CLI finds tenants' desired specs: a JSON file (an array of specs, e.g. exported for
 * a CI job), or the API's store (`DATABASE_URL`), deleted tenants left out.
 */
export async function loadSpecs(opts: {
  specs?: string;
  databaseUrl?: string;
}): Promise<TenantSpecInput[]> {
  if (opts.specs) {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(opts.specs, "utf8"));
    } catch (e) {
      throw new SourceError(`cannot read specs from ${opts.specs}: ${(e as Error).message}`);
    }
    const parsed = z.array(z.record(z.string(), z.unknown())).safeParse(data);
    if (!parsed.success)
      throw new SourceError(`${opts.specs} must hold a JSON array of tenant specs`);
    return parsed.data as unknown as TenantSpecInput[];
  }
  if (!opts.databaseUrl)
    throw new SourceError("no tenants to work on: give --specs <file.json> or set DATABASE_URL");
  const pool = new Pool({ connectionString: opts.databaseUrl, max: 2 });
  try {
    const tenants = await new TenantStore(pool).list();
    const catalog = loadCatalog();
    // Exactly what the API's reconciler applies (databases where they are), so fingerprints agree.
    return tenants.filter((t) => t.desiredState !== "deleted").map((t) => stackSpecOf(t, catalog));
  } finally {
    await pool.end();
  }
}
