import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { killBillCatalogXml, killBillOverdueXml, loadCatalog } from "../../catalog";
import type { CliContext } from "../context";

/** `catalog xml`: the Kill Bill catalog and overdue XML made from the plans. */
export function registerCatalogCommands(program: Command, ctx: CliContext): void {
  program
    .command("catalog")
    .description("the plan catalog")
    .command("xml")
    .description("write the Kill Bill catalog and overdue XML")
    .option("--out <dir>", "directory", "catalog/generated")
    .action(async (o) => {
      const catalog = loadCatalog();
      fs.mkdirSync(o.out, { recursive: true });
      for (const [file, xml] of [
        ["killbill-catalog.xml", killBillCatalogXml(catalog)],
        ["killbill-overdue.xml", killBillOverdueXml()],
      ]) {
        fs.writeFileSync(path.join(o.out, file), xml);
        ctx.out(`wrote ${path.join(o.out, file)}`);
      }
    });
}
