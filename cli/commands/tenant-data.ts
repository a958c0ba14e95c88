import type { Command } from "commander";
import type { CliContext } from "../context";

/**
 * `tenants …` that go through the API (ODOO_SAAS_API_URL, ADMIN_TOKEN): status as the engine
 * reports it, backups, restores and exports, serialized there with the tenant's other operations.
 */
export function registerTenantDataCommands(tenants: Command, ctx: CliContext): void {
  /** Every tenant the API knows, page after page, in id order. */
  const everyTenant = async <V>(): Promise<V[]> => {
    const all: V[] = [];
    for (let cursor: string | null = null; ;) {
      const page: { tenants: V[]; nextCursor: string | null } = await ctx
        .adminApi()
        .call(
          "GET",
          `/admin/tenants?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
      all.push(...page.tenants);
      cursor = page.nextCursor;
      if (!cursor) return all;
    }
  };
  const runOperation = async (queued: { id: string }, o: { json?: boolean }) => {
    ctx.err(`operation ${queued.id} queued`);
    const op = await ctx
      .adminApi()
      .follow(queued.id, (status) => ctx.err(`operation ${queued.id}: ${status}`));
    if (o.json) ctx.json(op);
    if (op.status !== "succeeded") {
      ctx.err(`error: ${op.error ?? op.status}`);
      ctx.failed();
    }
    return op;
  };
  tenants
    .command("status [tenantId]")
    .description("instance status as the engine reports it, and billing status (through the API)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      type View = {
        id: string;
        status: string;
        desiredState: string;
        plan: string;
        dataKeptUntil: string | null;
        billing: { status: string | null; endsOn: string | null } | null;
      };
      const views = id
        ? [await ctx.adminApi().call<View>("GET", `/admin/tenants/${id}`)]
        : await everyTenant<View>();
      if (o.json) ctx.json(views);
      else
        for (const v of views)
          ctx.out(
            `${v.id.padEnd(24)} ${v.status.padEnd(10)} ${v.plan.padEnd(10)} ` +
              `${(v.billing?.status ?? "-").padEnd(16)}` +
              (v.billing?.endsOn ? ` ends on ${v.billing.endsOn}` : "") +
              (v.dataKeptUntil ? ` data kept until ${v.dataKeptUntil.slice(0, 10)}` : ""),
          );
    });
  tenants
    .command("backup <tenantId>")
    .description("take a verified backup now (through the API: ODOO_SAAS_API_URL, ADMIN_TOKEN)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const op = await runOperation(
        await ctx.adminApi().call("POST", `/admin/tenants/${id}/backups`),
        o,
      );
      if (!o.json && op.status === "succeeded")
        ctx.out(`${id}: backup ${(op.details as { backupId: string }).backupId}`);
    });
  tenants
    .command("backups <tenantId>")
    .description("the tenant's backups, newest first")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const list = await ctx
        .adminApi()
        .call<Record<string, unknown>[]>("GET", `/admin/tenants/${id}/backups`);
      if (o.json) ctx.json(list);
      else
        for (const b of list)
          ctx.out(
            `${b.id}  ${b.startedAt}  ${String(b.reason).padEnd(13)} ${String(b.status).padEnd(9)} ` +
              `${b.forgottenAt ? "forgotten" : b.verifiedAt ? "verified" : ""}`,
          );
    });
  tenants
    .command("restore <tenantId>")
    .description("restore a backup into the tenant (or --into another tenant id, a copy)")
    .option("--backup <id>", "the backup (default: the newest verified one)")
    .option("--into <tenantId>", "restore into this tenant id instead (created when missing)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const body = {
        ...(o.backup ? { backupId: o.backup } : {}),
        ...(o.into ? { targetTenantId: o.into } : {}),
      };
      const op = await runOperation(
        await ctx.adminApi().call("POST", `/admin/tenants/${id}/restore`, body),
        o,
      );
      if (!o.json && op.status === "succeeded") ctx.out(`${o.into ?? id}: restored`);
    });
  tenants
    .command("move <tenantId> <node>")
    .description(
      "move the tenant to another Swarm node: a verified backup, its files restored there, then it runs there",
    )
    .option(
      "--from-backup",
      "its node is lost: restore it onto <node> from its last verified backup (the files written since are lost)",
    )
    .option("--json", "machine-readable output")
    .action(async (id, node, o) => {
      const op = await runOperation(
        await ctx.adminApi().call("POST", `/admin/tenants/${id}/move`, {
          node,
          ...(o.fromBackup ? { fromBackup: true } : {}),
        }),
        o,
      );
      const d = op.details as {
        from: string;
        downtimeMs: number | null;
        fromBackup?: { takenAt: string };
      } | null;
      if (!o.json && op.status === "succeeded" && d)
        ctx.out(
          `${id}: ${d.fromBackup ? `restored on ${node} from its backup of ${d.fromBackup.takenAt} (its node ${d.from} lost)` : `moved from ${d.from} to ${node}`}` +
            (d.downtimeMs !== null
              ? ` (${(d.downtimeMs / 1000).toFixed(1)} s without answering)`
              : ""),
        );
    });
  tenants
    .command("export <tenantId>")
    .description("download Odoo's backup zip of a backup (the newest verified one by default)")
    .requiredOption("--out <file>", "where to write the zip")
    .option("--backup <id>", "the backup")
    .action(async (id, o) => {
      const size = await ctx
        .adminApi()
        .download(
          `/admin/tenants/${id}/export${o.backup ? `?backup=${encodeURIComponent(o.backup)}` : ""}`,
          o.out,
        );
      ctx.out(`${id}: wrote ${o.out} (${size} bytes)`);
    });
}
