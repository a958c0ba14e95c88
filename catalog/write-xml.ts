// `npm run catalog:xml [-- <dir>]`: writes the Kill Bill catalog and overdue XML for upload
// (POST /1.0/kb/catalog/xml and /1.0/kb/overdue/xml, Content-Type: text/xml).
import * as fs from "node:fs";
import * as path from "node:path";
import { killBillCatalogXml, killBillOverdueXml, loadCatalog } from "./index";

const outDir = path.resolve(process.argv[2] ?? path.join(__dirname, "generated"));
fs.mkdirSync(outDir, { recursive: true });
const catalog = loadCatalog();
for (const [file, xml] of [
  ["killbill-catalog.xml", killBillCatalogXml(catalog)],
  ["killbill-overdue.xml", killBillOverdueXml()],
] as const) {
  fs.writeFileSync(path.join(outDir, file), xml);
  console.log(`wrote ${path.join(outDir, file)}`);
}
