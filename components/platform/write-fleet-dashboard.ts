// `npm run dashboard`: writes the fleet's Grafana dashboard (docs/grafana/fleet-dashboard.json),
// the file an operator imports. Its test fails until the committed file matches the generator.
import * as fs from "node:fs";
import * as path from "node:path";
import { fleetDashboard } from "./fleet-dashboard";

export const DASHBOARD_FILE = path.join(__dirname, "../../docs/grafana/fleet-dashboard.json");
export const dashboardText = () => `${JSON.stringify(fleetDashboard(), null, 2)}\n`;

if (require.main === module) {
  fs.writeFileSync(DASHBOARD_FILE, dashboardText());
  console.log(`wrote ${DASHBOARD_FILE}`);
}
