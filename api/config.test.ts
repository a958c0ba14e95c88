import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, loadConfig } from "./config";

const base = {
  ADMIN_TOKEN: "admin-token-0123456789",
  KILLBILL_WEBHOOK_SECRET: "webhook-secret-0123456789",
  KILLBILL_PASSWORD: "kb",
  KILLBILL_API_KEY: "odoo-saas",
  KILLBILL_API_SECRET: "kb-secret",
  BACKUP_PASSWORD: "backup-password-0123456789",
  ODOO_SAAS_DEV: "1",
};

describe("loadConfig", () => {
  it("reads <KEY>_FILE (Swarm secrets) without the trailing newline; a set <KEY> wins", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-"));
    fs.writeFileSync(path.join(dir, "token"), "token-from-file-0123456\n");
    fs.writeFileSync(path.join(dir, "passphrase"), "passphrase-from-file");
    const config = loadConfig({
      ...base,
      ADMIN_TOKEN: undefined,
      ADMIN_TOKEN_FILE: path.join(dir, "token"),
      PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, "passphrase"),
      KILLBILL_API_SECRET_FILE: path.join(dir, "token"),
      // Not one of the API's variables: left alone, however unreadable.
      TF_CLI_CONFIG_FILE: "/nonexistent/.terraformrc",
    });
    expect(config.ADMIN_TOKEN).toBe("token-from-file-0123456");
    expect(config.automation.passphrase).toBe("passphrase-from-file");
    expect(config.KILLBILL_API_SECRET).toBe("kb-secret");
  });

  it("lists every problem at once, unreadable files included, and echoes no value", () => {
    let error: unknown;
    try {
      loadConfig({
        ...base,
        ADMIN_TOKEN: undefined,
        ADMIN_TOKEN_FILE: "/nonexistent/admin-token",
        KILLBILL_PASSWORD: undefined,
        BACKUP_PASSWORD: "short-secret",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("ADMIN_TOKEN_FILE: cannot read /nonexistent/admin-token (ENOENT)");
    expect(message).toMatch(/KILLBILL_PASSWORD/);
    expect(message).toMatch(/BACKUP_PASSWORD: at least 16 characters/);
    expect(message).not.toContain("short-secret");
  });
});
