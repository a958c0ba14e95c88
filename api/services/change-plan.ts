import type { Catalog } from "../../catalog";
import type { DatabasePlacement } from "../../components/tenant/database-placement";
import type { TenantSpecInput } from "../../stacks/tenant/tenant-spec";
import type { Tenant } from "../domain/tenant";

/** What a tenant's stack is given: its desired spec, with its databases where they really are. */
export type StackSpec = TenantSpecInput & {
  state: "active" | "sleeping" | "suspended";
  databases: { serving: DatabasePlacement; kept: DatabasePlacement[]; serversRunning?: boolean };
};

/** The plan the tenant's stack last ran on (undefined before its first run). */
export function appliedPlan(t: Tenant): string | undefined {
  const plan = t.appliedSpec?.plan ?? t.outputs?.plan;
  return typeof plan === "string" ? plan : undefined;
}

/** Where the tenant's database is now: the store's record, else the plan it was applied with. */
export function currentPlacement(t: Tenant, catalog: Catalog): DatabasePlacement {
  if (t.databasePlacement) return t.databasePlacement;
  const plan = catalog.plan(appliedPlan(t) ?? t.spec.plan) ?? catalog.plan(t.spec.plan);
  return plan?.database.placement ?? "shared";
}

/**
 * The stack spec for the tenant's desired state. The database is served from where it is (a plan
 * alone never moves it); databases a move left behind, and a move's target, are kept.
 */
export function stackSpecOf(t: Tenant, catalog: Catalog): StackSpec {
  const serving = currentPlacement(t, catalog);
  const kept = [
    ...t.retiredDatabases.map((d) => d.placement),
    ...(t.databaseMove ? [t.databaseMove.to] : []),
  ].filter((p, i, all) => p !== serving && all.indexOf(p) === i);
  return {
    tenantId: t.id,
    customerId: t.customerId,
    ...t.spec,
    odooVersion: t.spec.odooVersion as StackSpec["odooVersion"],
    // Terminated is stopped like suspended in the stack: no runtime, no route, data kept. A
    // sleeping tenant is stopped too, but routed to its gateway, which wakes it.
    state: t.desiredState !== "active" ? "suspended" : t.sleepingSince ? "sleeping" : "active",
    databases: { serving, kept },
    ...(t.node ? { node: t.node } : {}),
    // A move's target volume (made by the stack, then holding a copy of the files) is kept
    // until the move switches to it; then the source's is, until the move removes it.
    ...(t.nodeMove && t.nodeMove.phase !== "switched" && t.nodeMove.to !== t.node
      ? { keptNodes: [t.nodeMove.to] }
      : {}),
  };
}

/** The steps that carry out a tenant's desired change, safest first. */
export interface ChangeSteps {
  /**
   * The new state (suspended, terminated, running again) with everything else as last applied:
   * access follows billing at once, even when the rest of the change fails.
   */
  access?: StackSpec;
  /** The database has to move to where the plan puts it (a copy, never a fresh database). */
  move?: { from: DatabasePlacement; to: DatabasePlacement };
  /**
   * A move was under way that the plan no longer asks for (changed back before it finished): its
   * target, which never served, is dropped, and Odoo (stopped by the move) runs again.
   */
  abandonedMove?: boolean;
  /** The whole desired spec (the move's last step, when there is one). */
  final: StackSpec;
}

const withoutState = ({ state: _state, ...rest }: Record<string, unknown>) =>
  JSON.stringify(rest, Object.keys(rest).sort());

/**
 * Splits a desired change: when it changes both the tenant's state and anything else (its plan,
 * version, domains), the state comes first on its own; a plan whose database placement differs
 * from where the database is moves it.
 */
export function changeSteps(t: Tenant, catalog: Catalog): ChangeSteps {
  const final = stackSpecOf(t, catalog);
  const applied = t.appliedSpec;
  const access =
    applied &&
    applied.state !== final.state &&
    withoutState({ ...applied, databases: final.databases }) !== withoutState(final)
      ? ({ ...applied, state: final.state, databases: final.databases } as StackSpec)
      : undefined;
  const provisioned = t.observedState !== null && t.observedState !== "deleted";
  const target = catalog.plan(t.spec.plan)?.database.placement;
  const from = final.databases.serving;
  const move = provisioned && target && target !== from ? { from, to: target } : undefined;
  const abandoned =
    !move && t.databaseMove && t.databaseMove.to !== from ? t.databaseMove : undefined;
  if (abandoned && !t.retiredDatabases.some((d) => d.placement === abandoned.to))
    final.databases.kept = final.databases.kept.filter((p) => p !== abandoned.to);
  return {
    ...(access ? { access } : {}),
    ...(move ? { move } : {}),
    ...(abandoned ? { abandonedMove: true } : {}),
    final,
  };
}

const unique = <T>(xs: T[]) => [...new Set(xs)];

/**
 * The two stack specs of a database move: `prepared` serves from the source and keeps the target
 * (both servers running, so the data can be copied); `switched` serves from the target and keeps
 * the source (until its retention ends). Neither drops a database the other declares.
 */
export function moveSpecs(
  final: StackSpec,
  move: { from: DatabasePlacement; to: DatabasePlacement },
): { prepared: StackSpec; switched: StackSpec } {
  const others = final.databases.kept.filter((p) => p !== move.from && p !== move.to);
  return {
    prepared: {
      ...final,
      databases: { serving: move.from, kept: unique([...others, move.to]), serversRunning: true },
    },
    switched: { ...final, databases: { serving: move.to, kept: unique([...others, move.from]) } },
  };
}
