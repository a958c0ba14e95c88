import type { Command } from "commander";
import type { CliContext } from "../context";

interface DrainStatus {
  node: string;
  availability: string;
  moving: { tenantId: string; to: string; operationId: string }[];
  stuck: { tenantId: string; reason: string }[];
}

/** `nodes drain`: empties a Swarm node through the API, moving its tenants one by one. */
export function registerNodeCommands(program: Command, ctx: CliContext): void {
  program
    .command("nodes")
    .description("the Swarm nodes tenants run on (through the API: ODOO_SAAS_API_URL, ADMIN_TOKEN)")
    .command("drain <node>")
    .description(
      "mark the node as draining, move its tenants to other tenant nodes one by one, then drain it (Swarm moves the rest)",
    )
    .action(async (node: string) => {
      const api = ctx.adminApi();
      for (;;) {
        const s = await api.call<DrainStatus>("POST", `/admin/nodes/${node}/drain`);
        if (s.availability === "drain") {
          ctx.out(`${node}: drained`);
          return;
        }
        for (const t of s.stuck) ctx.err(`${t.tenantId}: cannot leave ${node}: ${t.reason}`);
        if (s.stuck.length) {
          ctx.err(
            `error: ${node} stays marked as draining: ${s.stuck.length} tenant(s) cannot leave it`,
          );
          ctx.failed();
          return;
        }
        // One at a time: each move is a short downtime for its tenant, and a load on the node.
        for (const m of s.moving) {
          ctx.err(`${m.tenantId}: moving to ${m.to} (operation ${m.operationId})`);
          const op = await api.follow(m.operationId, () => undefined);
          if (op.status !== "succeeded") {
            ctx.err(`error: ${m.tenantId}: ${op.error ?? op.status}`);
            ctx.failed();
            return;
          }
          ctx.out(`${m.tenantId}: moved to ${m.to}`);
        }
      }
    });
}
