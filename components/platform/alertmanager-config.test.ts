// The generated Alertmanager configuration, checked by Alertmanager's own `amtool check-config`
// (Debian's 0.25, scripts/ensure-prometheus-tools.sh).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { alertmanagerConfig } from "./alertmanager-config";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-alertmanager-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const amtool = process.env.AMTOOL ?? "amtool";

describe("Alertmanager's configuration", () => {
  it.each([
    ["a local relay", "smtp://127.0.0.1:2525", "127.0.0.1:2525", false],
    [
      "a provider with a login, over TLS",
      "smtps://ops%40saas.example:pw@mail.example",
      "mail.example:465",
      true,
    ],
  ])("amtool accepts it for %s", (_, smtpUrl, smarthost, tls) => {
    fs.writeFileSync(path.join(dir, "smtp-password"), "pw");
    fs.writeFileSync(path.join(dir, "token"), "monitoring-token");
    const config = alertmanagerConfig({
      smtpUrl,
      from: "Odoo hosting <alerts@saas.example>",
      operatorEmail: "ops@saas.example",
      smtpPasswordFile: path.join(dir, "smtp-password"),
      groupWait: "30s",
      groupInterval: "5m",
      repeatInterval: "4h",
      heartbeat: {
        url: "http://saas-api:3000/monitoring/heartbeat",
        tokenFile: path.join(dir, "token"),
        every: "1m",
      },
    });
    expect(config.global).toMatchObject({ smtp_smarthost: smarthost, smtp_require_tls: tls });
    // The password never in the configuration itself.
    expect(JSON.stringify(config)).not.toContain(":pw");
    expect(JSON.stringify(config)).not.toContain("monitoring-token");
    const file = path.join(dir, "alertmanager.json");
    fs.writeFileSync(file, JSON.stringify(config));
    expect(execFileSync(amtool, ["check-config", file], { encoding: "utf8" })).toMatch(/SUCCESS/);
  });

  it("routes the Watchdog to the API's heartbeat, never to the operator's mail", () => {
    const file = path.join(dir, "heartbeat.json");
    fs.writeFileSync(
      file,
      JSON.stringify(
        alertmanagerConfig({
          smtpUrl: "smtp://127.0.0.1:2525",
          from: "alerts@saas.example",
          operatorEmail: "ops@saas.example",
          groupWait: "10s",
          groupInterval: "5m",
          repeatInterval: "4h",
          heartbeat: {
            url: "http://saas-api:3000/monitoring/heartbeat",
            tokenFile: file,
            every: "1m",
          },
        }),
      ),
    );
    const route = (labels: string) =>
      execFileSync(
        amtool,
        ["config", "routes", "test", `--config.file=${file}`, ...labels.split(" ")],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      ).trim();
    expect(route("alertname=Watchdog severity=heartbeat")).toBe("heartbeat");
    expect(route("alertname=TenantDown tenant=acme")).toBe("operator");
  });
});
