import type { Command } from "commander";
import { setUpKillBill } from "../../api/killbill/setup";
import { loadCatalog } from "../../catalog";
import { UsageError, type CliContext } from "../context";

/** `killbill setup`: the Kill Bill tenant, its catalog and overdue policy, the webhook. */
export function registerKillBillCommands(program: Command, ctx: CliContext): void {
  program
    .command("killbill")
    .description("the Kill Bill side")
    .command("setup")
    .description(
      "create the Kill Bill tenant, upload the catalog and overdue XML, register the webhook (idempotent)",
    )
    .requiredOption("--callback <url>", "the API's webhook URL, with its secret")
    .action(async (o) => {
      const e = ctx.deps.env;
      const required = (key: string) => {
        if (!e[key]) throw new UsageError(`${key} is required`);
        return e[key]!;
      };
      const steps = await setUpKillBill(
        {
          url: e.KILLBILL_URL ?? "http://127.0.0.1:8080",
          username: e.KILLBILL_USERNAME ?? "admin",
          password: required("KILLBILL_PASSWORD"),
          apiKey: required("KILLBILL_API_KEY"),
          apiSecret: required("KILLBILL_API_SECRET"),
        },
        loadCatalog(),
        o.callback,
      );
      for (const step of steps) ctx.out(step);
    });
}
