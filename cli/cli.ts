import { Command, CommanderError } from "commander";
import { RolloutJournalError } from "../automation/rollout-journal";
import { InvalidTenantSpecError } from "../stacks/tenant/tenant-spec";
import { registerCatalogCommands } from "./commands/catalog";
import { registerFleetCommands } from "./commands/fleet";
import { registerKillBillCommands } from "./commands/killbill";
import { registerNodeCommands } from "./commands/nodes";
import { registerTenantDataCommands } from "./commands/tenant-data";
import { registerTenantCommands } from "./commands/tenants";
import { CliContext, EXIT, UsageError, type CliDeps } from "./context";
import { SourceError } from "./tenant-source";

export { EXIT, type CliDeps } from "./context";

/** The operator CLI (`odoo-saas`); returns the exit code instead of exiting, for tests. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const ctx = new CliContext(deps);
  const program = new Command("odoo-saas")
    .description(
      "Operate odoo-saas tenant stacks (the platform itself: pulumi up / pulumi preview)",
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.stdout(s), writeErr: (s) => deps.stderr(s) })
    .showHelpAfterError();
  const tenants = registerTenantCommands(program, ctx);
  registerTenantDataCommands(tenants, ctx);
  registerFleetCommands(program, ctx);
  registerCatalogCommands(program, ctx);
  registerKillBillCommands(program, ctx);
  registerNodeCommands(program, ctx);

  try {
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (
      e instanceof UsageError ||
      e instanceof SourceError ||
      e instanceof RolloutJournalError ||
      e instanceof InvalidTenantSpecError
    ) {
      ctx.err(`error: ${e.message}`);
      return EXIT.usage;
    }
    ctx.err(`error: ${(e as Error).message}`);
    return EXIT.failed;
  }
}
