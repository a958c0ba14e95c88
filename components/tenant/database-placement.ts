import type { Plan } from "../../catalog";

/** Where a tenant's database lives: on the platform's shared server, or a server of its own. */
export type DatabasePlacement = "shared" | "dedicated";
export const DATABASE_PLACEMENTS: readonly DatabasePlacement[] = ["shared", "dedicated"];

/**
 * Which databases a tenant's stack holds. A plan decides where a tenant's database should be, but
 * only a move (the API's, see api/services/database-move.ts) changes where it is: until then the
 * stack keeps serving from where the data is, and a database it no longer serves from is kept
 * (never dropped by a diff) until its retention ends.
 */
export interface TenantDatabases {
  /** Where Odoo's database is. */
  serving: DatabasePlacement;
  /** Other databases the stack keeps: a move's target while it is filled, its source afterwards. */
  kept: DatabasePlacement[];
  /** Dedicated servers run although Odoo does not (a move copies between them). */
  serversRunning: boolean;
}

/** The databases a stack declares: the given ones, or just the plan's placement. */
export function tenantDatabases(plan: Plan, given?: Partial<TenantDatabases>): TenantDatabases {
  const serving = given?.serving ?? plan.database.placement;
  return {
    serving,
    kept: [...new Set(given?.kept ?? [])].filter((p) => p !== serving),
    serversRunning: given?.serversRunning ?? false,
  };
}

/** CPU and memory a tenant's containers get: the plan's, within the platform's cap when it has one. */
export interface ContainerLimits {
  cpus: number;
  memoryMb: number;
}

/**
 * The plan's limits within the platform's cap. A development platform on a small host caps CPUs
 * at the host's (Docker refuses a limit above them); production platforms set no cap, and the API
 * refuses a plan no node can run instead.
 */
export function cappedLimits(plan: Plan, cap?: Partial<ContainerLimits>): ContainerLimits {
  return {
    cpus: Math.min(plan.cpus, cap?.cpus ?? Infinity),
    memoryMb: Math.min(plan.memoryMb, cap?.memoryMb ?? Infinity),
  };
}
