// The fleet dashboard: the committed file is what the generator makes (a snapshot an operator
// imports), every query is PromQL Prometheus accepts (`promtool check rules` on them as recording
// rules), and every series it reads is one something exports.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createMetrics } from "../../api/common/metrics";
import { FLEET_PANELS, fleetDashboard } from "./fleet-dashboard";
import { DASHBOARD_FILE, dashboardText } from "./write-fleet-dashboard";

const promtool = process.env.PROMTOOL ?? "promtool";
const queries = FLEET_PANELS.flatMap((p) => p.queries.map((q) => ({ panel: p.title, ...q })));

describe("the fleet dashboard", () => {
  it("docs/grafana/fleet-dashboard.json is up to date (run `npm run dashboard`)", () => {
    expect(fs.readFileSync(DASHBOARD_FILE, "utf8")).toBe(dashboardText());
  });

  it("asks for its data source at import, and lays its panels out without overlap", () => {
    const d = fleetDashboard();
    expect(d.__inputs.map((i) => i.name)).toEqual(["DS_PROMETHEUS"]);
    const cells = new Set<string>();
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect([p.title, cells.has(`${x},${y}`)]).toEqual([p.title, false]);
          cells.add(`${x},${y}`);
        }
    }
    // What the issue asks it to show.
    const titles = d.panels.map((p) => p.title).join(" | ");
    for (const shown of [
      /Tenants by instance status/,
      /Reconcile duration/,
      /Provisioning latency/,
      /backup/,
      /Probe success/,
    ])
      expect(titles).toMatch(shown);
  });

  it("every query is PromQL Prometheus accepts", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-dashboard-"));
    try {
      const file = path.join(dir, "queries.json");
      const rules = queries.map((q, i) => ({
        record: `dashboard:query_${i}`,
        // Grafana's variables, as it would expand them.
        expr: q.expr.replace(/\$__rate_interval/g, "1m"),
      }));
      fs.writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const out = execFileSync(promtool, ["check", "rules", file], { encoding: "utf8" });
      expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads only series the API, the exporters or Prometheus export", async () => {
    const api = new Set(
      (await createMetrics().registry.getMetricsAsJSON()).flatMap((m) =>
        String(m.type) === "histogram" ? [`${m.name}_bucket`] : [m.name],
      ),
    );
    // The exporters' (blackbox, postgres) and Prometheus's own.
    const elsewhere = new Set([
      "probe_success",
      "pg_stat_activity_count",
      "pg_settings_max_connections",
      "ALERTS",
    ]);
    for (const q of queries)
      for (const name of q.expr.match(/\b(odoo_saas_\w+|probe_\w+|pg_\w+|ALERTS)\b/g) ?? [])
        expect([q.panel, name, api.has(name) || elsewhere.has(name)]).toEqual([
          q.panel,
          name,
          true,
        ]);
  });
});
