import type { TenantStacks } from "../../automation";
import type { Catalog } from "../../catalog";
import { cappedLimits } from "../../components/tenant/database-placement";
import { ConflictError, NotFoundError } from "../common/errors";
import type { Logger } from "../common/logger";
import { operatorNodeMail } from "../mail/messages";
import type { Outbox } from "../mail/outbox";
import type { Tenant } from "../domain/tenant";
import type { OperationStore } from "../store/operation-store";
import type { TenantStore } from "../store/tenant-store";
import { currentPlacement } from "./change-plan";
import type { NodeCapacity, NodeState } from "./node-capacity";
import type { NodeMove } from "./node-move";
import { chooseNode, nodeCandidates } from "./tenant-nodes";

/** Where a drain stands: the node's availability, the moves it queued, the tenants it cannot move. */
export interface DrainStatus {
  node: string;
  availability: string;
  moving: { tenantId: string; to: string; operationId: string }[];
  stuck: { tenantId: string; reason: string }[];
}

/**
 * Empties a Swarm node for maintenance without leaving a tenant down. Its tenants are pinned to it
 * (their local volumes), so a plain `docker node update --availability drain` would stop them
 * with nowhere to go. Instead:
 *   1. the node is marked as draining (a node label): no tenant is placed or moved there, what
 *      runs there runs on;
 *   2. each tenant on it is moved to the tenant node with the fewest tenants (a NodeMove: backup,
 *      restore there, switch), one operation each;
 *   3. a tenant that cannot move (a dedicated database server) is reported as stuck, with why, to
 *      the operator by mail, and keeps running on the node, which stays marked;
 *   4. once no tenant is left on it, the node is drained: Swarm moves the tasks that hold nothing
 *      (the poolers) elsewhere.
 * Idempotent: called again, it queues what is not moving yet and reports the rest.
 */
export class NodeDrain {
  private readonly reported = new Map<string, number>();

  constructor(
    private readonly d: {
      tenants: TenantStore;
      operations: OperationStore;
      stacks: TenantStacks;
      nodes: NodeCapacity;
      moves: NodeMove;
      mail: Outbox;
      catalog: Catalog;
      logger: Logger;
      operatorEmail: string;
    },
  ) {}

  async drain(node: string): Promise<DrainStatus> {
    const state = (await this.d.nodes.states()).get(node);
    if (!state) throw new NotFoundError(`node ${node} in the Swarm`);
    const settings = await this.d.stacks.platformSettings();
    const others = Object.keys(settings?.tenantNodes ?? {}).filter((n) => n !== node);
    if (state.availability === "drain")
      return { node, availability: "drain", moving: [], stuck: [] };
    if (!state.draining) await this.d.nodes.markDraining(node);
    const status: DrainStatus = { node, availability: "draining", moving: [], stuck: [] };
    const waiting: Tenant[] = [];
    const onNode = (await this.d.tenants.list()).filter(
      (x) => x.node === node && x.desiredState !== "deleted",
    );
    const latest = await this.d.operations.latestFor(onNode.map((t) => t.id));
    for (const t of onNode) {
      const op = latest.get(t.id);
      const queued = op?.type === "move" && ["queued", "running"].includes(op.status);
      if (t.nodeMove || queued)
        status.moving.push({
          tenantId: t.id,
          to: t.nodeMove?.to ?? String((op?.details as { node?: string } | null)?.node ?? "?"),
          operationId: t.nodeMove?.operationId ?? op!.id,
        });
      else {
        const reason = this.unmovable(t, others.length);
        if (reason) status.stuck.push({ tenantId: t.id, reason });
        else waiting.push(t);
      }
    }
    // One move at a time: each is a short downtime for its tenant and a load on both nodes.
    const [ready, counts] = await Promise.all([
      this.d.nodes.nodes(),
      this.d.tenants.tenantsPerNode(),
    ]);
    for (const t of status.moving.length ? [] : waiting) {
      const plan = this.d.catalog.plan(t.spec.plan)!;
      const choice = chooseNode(
        plan.id,
        cappedLimits(plan, settings?.tenantLimitCap),
        nodeCandidates(others, ready, counts),
      );
      if ("refusal" in choice) {
        status.stuck.push({ tenantId: t.id, reason: choice.refusal });
        continue;
      }
      try {
        const op = await this.d.moves.request(t.id, choice.node);
        status.moving.push({ tenantId: t.id, to: choice.node, operationId: op.id });
        break;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        status.stuck.push({ tenantId: t.id, reason: e.message });
      }
    }
    if (!status.moving.length && !status.stuck.length && !waiting.length) {
      await this.d.nodes.drain(node);
      status.availability = "drain";
    }
    await this.report(node, status.stuck);
    this.d.logger.info(
      { node, moving: status.moving.length, stuck: status.stuck.length, waiting: waiting.length },
      `drain of ${node}: ${status.availability}`,
    );
    return status;
  }

  private unmovable(t: Tenant, otherNodes: number): string | undefined {
    if (!otherNodes) return "no other tenant node to move it to";
    if (currentPlacement(t, this.d.catalog) === "dedicated")
      return "its dedicated database server cannot move between nodes yet: move it by a backup and a restore onto another node, or keep the node";
    return undefined;
  }

  /** Stuck tenants are mailed to the operator when they first get stuck (the metric counts them). */
  private async report(node: string, stuck: DrainStatus["stuck"]): Promise<void> {
    const before = this.reported.get(node) ?? 0;
    this.reported.set(node, stuck.length);
    if (stuck.length > before)
      await this.d.mail.send(operatorNodeMail(this.d.operatorEmail, node, stuck));
  }
}

/**
 * Why a tenant's node does not run it as it should, or undefined when the node is ready and active
 * (or the tenant has no node of its own, or is moving off it). `down`: it cannot run at all.
 */
export function nodeProblem(
  t: { node: string | null; nodeMove: unknown },
  states: Map<string, NodeState>,
): { reason: string; down: boolean } | undefined {
  if (!t.node || t.nodeMove || !states.size) return undefined;
  const s = states.get(t.node);
  if (!s)
    return {
      reason: `its node ${t.node} is not in the Swarm any more: restore it onto another node from its last backup (tenants move --from-backup)`,
      down: true,
    };
  if (s.state !== "ready")
    return {
      reason: `its node ${t.node} is ${s.state}: it runs again when the node is back, or restore it onto another node from its last backup (tenants move --from-backup)`,
      down: true,
    };
  if (s.availability === "drain")
    return {
      reason: `its node ${t.node} is drained and its volume is there: move it (tenants move), or set the node active`,
      down: true,
    };
  if (s.draining)
    return {
      reason: `its node ${t.node} is being drained: it runs on there until it is moved`,
      down: false,
    };
  return undefined;
}

/** Tenants that cannot run because of their node, per node (the metric odoo_saas_stranded_tenants). */
export function strandedPerNode(
  tenants: { node: string | null; nodeMove: unknown; desiredState: string }[],
  states: Map<string, NodeState>,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tenants)
    if (t.desiredState !== "deleted" && nodeProblem(t, states)?.down)
      counts[t.node!] = (counts[t.node!] ?? 0) + 1;
  return counts;
}
