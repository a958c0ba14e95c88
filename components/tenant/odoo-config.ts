import { createHash, pbkdf2Sync } from "node:crypto";

/** passlib's "adapted base64": standard base64 with `.` for `+`, no padding. */
const ab64 = (b: Buffer) => b.toString("base64").replace(/\+/g, ".").replace(/=+$/, "");

/**
 * Odoo's master password (`admin_passwd`) as Odoo stores it: passlib's pbkdf2_sha512
 * (`$pbkdf2-sha512$<rounds>$<salt>$<checksum>`). The salt is derived from the tenant id so the
 * hash, and the configuration file holding it, stay the same from one run to the next.
 */
export function odooMasterPasswordHash(password: string, tenantId: string, rounds = 25000): string {
  const salt = createHash("sha256")
    .update(`odoo-saas admin_passwd ${tenantId}`)
    .digest()
    .subarray(0, 16);
  const checksum = pbkdf2Sync(password, salt, rounds, 64, "sha512");
  return `$pbkdf2-sha512$${rounds}$${ab64(salt)}$${ab64(checksum)}`;
}

/**
 * The tenant's Odoo configuration file (`ODOO_RC`): the official image's own settings, plus a
 * master password of the tenant's own that nobody is told. The database manager is off anyway
 * (`--no-database-list`); this keeps Odoo's default master password from guarding anything.
 */
export function odooConfigFile(masterPasswordHash: string): string {
  return [
    "[options]",
    "addons_path = /mnt/extra-addons",
    "data_dir = /var/lib/odoo",
    `admin_passwd = ${masterPasswordHash}`,
    "",
  ].join("\n");
}
