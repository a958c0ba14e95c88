import type { Command } from "commander";
import { specsOption, UsageError, type CliContext } from "../context";

/** `tenants …` that run the engine on one tenant's stack. */
export function registerTenantCommands(program: Command, ctx: CliContext): Command {
  const tenants = program.command("tenants").description("one tenant stack at a time");
  tenants
    .command("list")
    .description("tenant stacks in the state backend")
    .option("--json", "machine-readable output")
    .action(async (o) => {
      const names = await ctx.tenantStacks().list();
      if (o.json) ctx.json(names);
      else ctx.out(names.length ? names.join("\n") : "(no tenant stacks)");
    });
  tenants
    .command("show <tenantId>")
    .description("a tenant stack's outputs (secrets masked)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const outputs = await ctx.tenantStacks().outputs(id);
      if (o.json) ctx.json(outputs);
      else
        for (const [k, v] of Object.entries(outputs).sort())
          ctx.out(`${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    });
  const upCommand = (name: string, description: string, state?: "active" | "suspended") =>
    tenants
      .command(`${name} <tenantId>`)
      .description(description)
      .addOption(specsOption())
      .option("--json", "machine-readable output")
      .action(async (id, o) => {
        const spec = { ...(await ctx.specFor(id, o)), ...(state ? { state } : {}) };
        const result = await ctx.tenantStacks().up(spec, {
          onProgress: (e) =>
            e.kind === "resource-finished" &&
            ctx.err(`${e.failed ? "failed" : e.op} ${e.type} ${e.name}`),
        });
        if (o.json) ctx.json(result);
        else
          ctx.out(
            `${id}: ${Object.entries(result.changes)
              .sort()
              .map(([k, v]) => `${v} ${k}`)
              .join(", ")}`,
          );
      });
  upCommand("up", "create or update the tenant's stack from its spec");
  upCommand(
    "suspend",
    "run the stack suspended (stopped, data kept); the API's desired state wins at its next reconcile",
    "suspended",
  );
  upCommand("resume", "run the stack active", "active");
  tenants
    .command("preview <tenantId>")
    .description("what up would change")
    .addOption(specsOption())
    .option("--json", "structured diff instead of the engine's text")
    .action(async (id, o) => {
      const result = await ctx.tenantStacks().preview(await ctx.specFor(id, o));
      if (o.json) ctx.json({ changes: result.changes, counts: result.counts });
      else ctx.out(result.text);
    });
  tenants
    .command("destroy <tenantId>")
    .description(
      "remove every resource of the tenant (database and filestore included) and its stack",
    )
    .option("--yes", "confirm: this deletes customer data")
    .action(async (id, o) => {
      if (!o.yes) throw new UsageError(`destroy deletes ${id}'s data: repeat with --yes`);
      const changes = await ctx.tenantStacks().destroy(id);
      ctx.out(`${id}: destroyed (${changes.delete ?? 0} resources)`);
    });

  return tenants;
}
