import type { Readable } from "node:stream";
import archiver from "archiver";
import * as tar from "tar-stream";
import type { TenantBackups } from "../../backup/tenant-backups";
import { NotFoundError } from "../common/errors";
import type { Logger } from "../common/logger";
import type { BackupStore } from "../store/backup-store";

/** A backup as Odoo's own backup zip, streamed from the repository. */
export class ExportService {
  constructor(
    private readonly d: { backups: BackupStore; engine: TenantBackups; logger: Logger },
  ) {}

  /**
   * Odoo's own backup format, streamed: `manifest.json`, `dump.sql` (plain SQL) and `filestore/`
   * of the backup's database, zipped on the fly from the repository (never whole in memory).
   */
  async exportZip(
    tenantId: string,
    backupId?: string,
  ): Promise<{ filename: string; stream: Readable }> {
    const backup = backupId
      ? await this.d.backups.get(backupId)
      : await this.d.backups.latestGood(tenantId);
    if (
      !backup ||
      backup.tenantId !== tenantId ||
      backup.status !== "succeeded" ||
      backup.forgottenAt
    )
      throw new NotFoundError(
        backupId
          ? `a good backup ${backupId} of tenant ${tenantId}`
          : `a good backup of tenant ${tenantId}`,
      );
    const zip = archiver("zip", { zlib: { level: 6 } });
    const manifest = {
      odoo_dump: "1",
      db_name: backup.databaseName,
      version: `${backup.odooVersion}.0`,
      version_info: [Number(backup.odooVersion), 0, 0, "final", 0, ""],
      major_version: `${backup.odooVersion}.0`,
      pg_version: backup.pgVersion,
      modules: backup.modules ?? {},
    };
    const write = async () => {
      zip.append(JSON.stringify(manifest, null, 4), { name: "manifest.json" });
      const sql = await this.d.engine.dumpSql(backup.databaseSnapshot!);
      zip.on("close", () => void sql.cancel());
      await appended(zip, sql.stdout, "dump.sql");
      await sql.done;
      const files = await this.d.engine.dumpFiles(backup.filestoreSnapshot!, backup.databaseName!);
      zip.on("close", () => void files.cancel());
      const extract = tar.extract();
      files.stdout.pipe(extract);
      for await (const entry of extract) {
        const rel = entry.header.name
          .replace(/^\.?\/?/, "")
          .split("/")
          .slice(1)
          .join("/");
        if (entry.header.type !== "file" || !rel) {
          entry.resume();
          continue;
        }
        await appended(zip, entry as unknown as Readable, `filestore/${rel}`);
      }
      await files.done;
      await zip.finalize();
    };
    write().catch((e) => {
      this.d.logger.warn(
        { tenantId, backupId: backup.id, error: (e as Error).message },
        "export failed",
      );
      zip.abort();
      zip.destroy(e as Error);
    });
    const day = backup.startedAt.slice(0, 10);
    return { filename: `${tenantId}_${day}_${backup.id.slice(0, 8)}.zip`, stream: zip };
  }
}

/** Appends a stream to the zip and waits until archiver has consumed it. */
function appended(zip: archiver.Archiver, source: Readable, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: archiver.EntryData) => {
      if (e.name !== name) return;
      zip.off("entry", onEntry);
      resolve();
    };
    zip.on("entry", onEntry);
    source.once("error", reject);
    zip.append(source, { name });
  });
}
