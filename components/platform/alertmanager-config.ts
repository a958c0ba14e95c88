import { WATCHDOG_ALERT } from "./alert-rules";

/**
 * Alertmanager's configuration: every alert mailed to the operator through the platform's SMTP
 * server (the API's SMTP_URL), grouped per alert and tenant or service, resolutions mailed too;
 * the always-firing Watchdog posted to the API instead, as its heartbeat (never mailed). JSON,
 * which Alertmanager reads as YAML.
 */
export interface AlertmanagerSetup {
  /** smtp://user:pass@host:port (smtps:// for TLS), as the API's SMTP_URL. */
  smtpUrl: string;
  from: string;
  operatorEmail: string;
  /** Where the SMTP password is inside Alertmanager's container (never in the configuration). */
  smtpPasswordFile?: string;
  /** Production: 30s, 5m, 4h; tests shorten them. */
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
  /** The API's heartbeat route, the token file to present there, and how often it is posted. */
  heartbeat: { url: string; tokenFile: string; every: string };
}

export function alertmanagerConfig(s: AlertmanagerSetup) {
  const url = new URL(s.smtpUrl);
  const tls = url.protocol === "smtps:";
  const user = decodeURIComponent(url.username);
  return {
    global: {
      smtp_smarthost: `${url.hostname}:${url.port || (tls ? 465 : 25)}`,
      smtp_from: s.from,
      // STARTTLS is asked for when the server offers it; smtps:// is TLS from the first byte.
      smtp_require_tls: tls,
      ...(user
        ? {
            smtp_auth_username: user,
            ...(s.smtpPasswordFile ? { smtp_auth_password_file: s.smtpPasswordFile } : {}),
          }
        : {}),
    },
    route: {
      receiver: "operator",
      group_by: ["alertname", "tenant", "service", "instance"],
      group_wait: s.groupWait,
      group_interval: s.groupInterval,
      repeat_interval: s.repeatInterval,
      routes: [
        {
          matchers: [`alertname="${WATCHDOG_ALERT}"`],
          receiver: "heartbeat",
          group_wait: "0s",
          group_interval: s.heartbeat.every,
          repeat_interval: s.heartbeat.every,
        },
      ],
    },
    receivers: [
      {
        name: "heartbeat",
        webhook_configs: [
          {
            url: s.heartbeat.url,
            send_resolved: false,
            max_alerts: 1,
            http_config: {
              authorization: { type: "Bearer", credentials_file: s.heartbeat.tokenFile },
            },
          },
        ],
      },
      {
        name: "operator",
        email_configs: [
          {
            to: s.operatorEmail,
            send_resolved: true,
            headers: {
              Subject:
                "[odoo-saas] {{ .Status | toUpper }}: {{ .CommonLabels.alertname }} {{ .CommonLabels.tenant }}{{ .CommonLabels.service }}",
            },
          },
        ],
      },
    ],
  };
}
