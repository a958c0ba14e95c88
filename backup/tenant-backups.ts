import type { AgentEvent, AgentOptions, AgentPlacement, AgentStream, BackupAgent } from "./agent";
import { BackupError } from "./errors";

/** Why a backup was taken; a restic tag on both of its snapshots. */
export type BackupReason = "scheduled" | "manual" | "pre-destroy" | "pre-change" | "pre-terminate";

/** Where a tenant's data is, as the agent reaches it from the tenant's networks. */
export interface TenantDataLocation {
  tenantId: string;
  database: { host: string; port: number; name: string; role: string; password: string };
  /** Who may create, rename and drop the tenant's databases (the tenant role on a dedicated server). */
  admin: { user: string; password: string };
  volume: string;
  /** The tenant's own network (a dedicated server is there) and the data network (the shared one). */
  networks: string[];
  /** The engine of the node holding the volume (a tenant node's); default DOCKER_HOST. */
  engine?: AgentPlacement["engine"];
}

export interface BackupLabels {
  id: string;
  reason: BackupReason;
  plan: string;
  odooVersion: string;
  /** The snapshots' time, when not now (retention tests on an injected clock). */
  at?: Date;
}

/** What one backup produced: two snapshots, verified. */
export interface BackupResult {
  databaseSnapshot: string;
  filestoreSnapshot: string;
  /** Bytes read (database dump + filestore) and bytes the repository grew by. */
  bytesProcessed: number;
  bytesAdded: number;
  /** Files in the filestore snapshot. */
  filestoreEntries: number;
  /** Nothing was written since the last good backup: its database snapshot is this one's too. */
  databaseReused: boolean;
  /** What changes whenever the database's data does (row counters, relation files, sequences). */
  fingerprint: string;
  durationMs: number;
  pgVersion: string;
  modules: Record<string, string | null>;
}

/** What a restore drill found in the scratch copy. */
export interface DrillResult {
  /** Tables in the restored database, and Odoo's installed modules (0 without Odoo's tables). */
  tables: number;
  modules: number;
  /** Files restored, and how many the snapshot lists. */
  files: number;
  snapshotFiles: number;
  durationMs: number;
}

export interface BackupSnapshots {
  databaseSnapshot: string;
  filestoreSnapshot: string;
}

/** restic's `forget --keep-*` flags, e.g. { daily: 7, weekly: 4, monthly: 3 }. */
export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

/** The fields of restic's `backup --json` summary line this uses. */
interface ResticSummary {
  snapshot_id: string;
  total_bytes_processed: number;
  data_added: number;
  total_files_processed: number;
}

const summaryOf = (events: AgentEvent[], part: string): ResticSummary => {
  const s = events.find((e) => e.event === part)?.summary as Partial<ResticSummary> | undefined;
  if (!s?.snapshot_id) throw new BackupError(`the ${part} snapshot was not written`);
  return s as ResticSummary;
};

/** restic's --time format, in UTC (the agent runs with TZ unset). */
const resticTime = (d: Date) => d.toISOString().slice(0, 19).replace("T", " ");

const pgEnv = (l: TenantDataLocation) => ({
  PGHOST: l.database.host,
  PGPORT: String(l.database.port),
  PGUSER: l.database.role,
  PGPASSWORD: l.database.password,
  PGDATABASE: l.database.name,
  ADMIN_USER: l.admin.user,
  ADMIN_PASSWORD: l.admin.password,
});

const placement = (l: TenantDataLocation, writable = false): AgentPlacement => ({
  tenant: l.tenantId,
  volume: l.volume,
  writable,
  networks: l.networks,
  env: pgEnv(l),
  ...(l.engine ? { engine: l.engine } : {}),
});

/**
 * Backups of a tenant's database and filestore in one restic repository: a `pg_dump` snapshot
 * and a filestore snapshot per backup, tagged and verified by reading them back; restore into
 * the same or another tenant; the export streams; retention.
 */
export class TenantBackups {
  private initialised?: Promise<void>;

  constructor(private readonly agent: BackupAgent) {}

  /** Creates the repository on first use (idempotent, also across API replicas). */
  init(): Promise<void> {
    this.initialised ??= this.agent
      .run("init", [])
      .then(() => undefined)
      .catch((e) => {
        this.initialised = undefined;
        throw e;
      });
    return this.initialised;
  }

  /**
   * Takes a backup: the database (unless `previous`'s fingerprint shows nothing was written since:
   * its verified dump then stands for this one) and the filestore, side by side in one agent run;
   * a new dump is read back from the repository (`pg_restore --list`) before this returns.
   */
  async backup(
    location: TenantDataLocation,
    labels: BackupLabels,
    opts: AgentOptions & { previous?: { databaseSnapshot: string; fingerprint: string } } = {},
  ): Promise<BackupResult> {
    await this.init();
    const started = Date.now();
    const tags = [`reason=${labels.reason}`, `plan=${labels.plan}`, `odoo=${labels.odooVersion}`];
    const last = opts.previous
      ? [opts.previous.databaseSnapshot, opts.previous.fingerprint]
      : ["-", "-"];
    const events = await this.agent.run(
      "backup",
      [location.tenantId, labels.id, ...last, ...tags],
      labels.at
        ? {
            ...placement(location),
            env: { ...pgEnv(location), BACKUP_TIME: resticTime(labels.at) },
          }
        : placement(location),
      opts,
    );
    const all = (events.find((e) => e.event === "snapshots")?.snapshots ?? []) as {
      id: string;
      short_id: string;
      tags?: string[];
    }[];
    const full = (short: string, part: string) => {
      const s = all.find((x) => x.short_id === short && x.tags?.includes(`part=${part}`));
      if (!s) throw new BackupError(`the ${part} snapshot ${short} is not in the repository`);
      return s.id;
    };
    const dbEvent = events.find((e) => e.event === "database");
    const reused = typeof dbEvent?.reused === "string" ? dbEvent.reused : undefined;
    const db = reused ? undefined : summaryOf(events, "database");
    const files = summaryOf(events, "filestore");
    const info = events.find((e) => e.event === "database-info")?.info as {
      pgVersion: string;
      modules: Record<string, string | null>;
      fingerprint: string;
    };
    return {
      databaseSnapshot: reused ?? full(db!.snapshot_id, "database"),
      filestoreSnapshot: full(files.snapshot_id, "filestore"),
      databaseReused: !!reused,
      fingerprint: info.fingerprint,
      bytesProcessed: (db?.total_bytes_processed ?? 0) + files.total_bytes_processed,
      bytesAdded: (db?.data_added ?? 0) + files.data_added,
      filestoreEntries: files.total_files_processed ?? 0,
      durationMs: Date.now() - started,
      pgVersion: info.pgVersion,
      modules: info.modules ?? {},
    };
  }

  /** Reads both snapshots back: the dump's table of contents must list, the filestore must list. */
  /**
   * A restore drill: the backup restored into a scratch database on the tenant's server (named
   * `scratchDatabase`, dropped afterwards whatever happens) and a scratch volume on its node
   * (removed with the agent), and what it holds counted. Throws when it does not restore or open.
   */
  async drill(
    s: BackupSnapshots,
    scratchDatabase: string,
    location: TenantDataLocation,
    opts: AgentOptions = {},
  ): Promise<DrillResult> {
    const started = Date.now();
    const events = await this.agent.run(
      "drill",
      [s.databaseSnapshot, s.filestoreSnapshot, scratchDatabase],
      { ...placement(location), volume: undefined, scratch: true },
      opts,
    );
    const done = events.find((e) => e.event === "drilled");
    if (!done) throw new BackupError("the restore drill ended without its checks");
    return {
      tables: Number(done.tables),
      modules: Number(done.modules),
      files: Number(done.files),
      snapshotFiles: Number(done.snapshotFiles),
      durationMs: Date.now() - started,
    };
  }

  async verify(s: BackupSnapshots): Promise<{ filestoreEntries: number }> {
    const events = await this.agent.run("verify", [s.databaseSnapshot, s.filestoreSnapshot]);
    const v = events.find((e) => e.event === "verified");
    if (!v) throw new BackupError("verification did not complete");
    return { filestoreEntries: Number(v.filestoreEntries) };
  }

  /**
   * Restores a backup into `target` (the same tenant, or another one: a clone). The database is
   * restored under a staging name owned by the target's role, then swapped in by rename; the
   * filestore is restored beside the live one and swapped in after the database.
   */
  async restore(
    snapshots: BackupSnapshots,
    sourceDatabase: string,
    target: TenantDataLocation,
    operationId: string,
    opts: AgentOptions = {},
  ): Promise<void> {
    const events = await this.agent.run(
      "restore",
      [
        snapshots.databaseSnapshot,
        snapshots.filestoreSnapshot,
        sourceDatabase,
        target.database.name,
        target.database.role,
        operationId,
      ],
      placement(target, true),
      opts,
    );
    if (!events.some((e) => e.event === "restored"))
      throw new BackupError("the restore did not complete");
  }

  /**
   * Restores a backup's files alone into `target`'s volume (on the node its engine names: a move
   * between nodes, whose database stays where it is); how many files it holds afterwards, which
   * must be the backup's count.
   */
  async restoreFiles(
    filestoreSnapshot: string,
    target: TenantDataLocation,
    opts: AgentOptions = {},
  ): Promise<number> {
    return this.filesVerb("restore-files", [filestoreSnapshot], target, opts);
  }

  /**
   * Brings a volume that holds snapshot `held` (restoreFiles) to a newer snapshot of the same
   * files by restoring only what differs: a move's copy while Odoo is stopped costs what changed,
   * not the whole filestore. The number of files it holds then.
   */
  async syncFiles(
    held: string,
    filestoreSnapshot: string,
    target: TenantDataLocation,
    opts: AgentOptions = {},
  ): Promise<number> {
    return this.filesVerb("sync-files", [held, filestoreSnapshot], target, opts);
  }

  private async filesVerb(
    verb: "restore-files" | "sync-files",
    args: string[],
    target: TenantDataLocation,
    opts: AgentOptions,
  ): Promise<number> {
    const events = await this.agent.run(
      verb,
      args,
      {
        volume: target.volume,
        writable: true,
        ...(target.engine ? { engine: target.engine } : {}),
      },
      opts,
    );
    const done = events.find((e) => e.event === "files-restored");
    if (!done) throw new BackupError("the files were not restored");
    return Number(done.files);
  }

  /**
   * Copies the tenant's database from one server to another (a database move): dumped from
   * `from`, restored under a staging name on `to`, checked table by table (exact row counts) and
   * sequence by sequence against the source, then swapped in. Its writer must be stopped. The
   * target's fingerprint afterwards, and what was copied.
   */
  async copyDatabase(
    from: TenantDataLocation,
    to: TenantDataLocation,
    operationId: string,
    opts: AgentOptions = {},
  ): Promise<{ fingerprint: string; tables: number; rows: number }> {
    const events = await this.agent.run(
      "copy-database",
      [to.database.role, operationId],
      {
        networks: to.networks,
        env: {
          ...pgEnv(to),
          SRC_HOST: from.database.host,
          SRC_PORT: String(from.database.port),
          SRC_ADMIN_USER: from.admin.user,
          SRC_ADMIN_PASSWORD: from.admin.password,
        },
      },
      opts,
    );
    const verified = events.find((e) => e.event === "database-verified");
    const done = events.find((e) => e.event === "copied");
    if (!verified || typeof done?.fingerprint !== "string")
      throw new BackupError("the database copy did not complete");
    return {
      fingerprint: done.fingerprint,
      tables: Number(verified.tables),
      rows: Number(verified.rows),
    };
  }

  /**
   * The tenant's metered usage, read from its database and volume without Odoo (a sleeping or
   * suspended tenant stays as it is), and the plan's blocking limits put in force or lifted
   * there: `caps` absent for a plan that bills its overage.
   */
  async measure(
    location: TenantDataLocation,
    caps: { users?: number; storageBytes?: number } = {},
    opts: AgentOptions = {},
  ): Promise<{
    users: number;
    databaseBytes: number;
    filestoreBytes: number;
    storageBlocked: boolean;
  }> {
    const events = await this.agent.run(
      "measure",
      [String(caps.users ?? "-"), String(caps.storageBytes ?? "-")],
      placement(location),
      opts,
    );
    const m = events.find((e) => e.event === "measured");
    if (!m) throw new BackupError("the measurement did not complete");
    return {
      users: Number(m.users),
      databaseBytes: Number(m.databaseBytes),
      filestoreBytes: Number(m.filestoreBytes),
      storageBlocked: m.storageBlocked === true,
    };
  }

  /** The database's fingerprint now (what changes whenever its data does). */
  async fingerprint(location: TenantDataLocation): Promise<string> {
    const events = await this.agent.run("fingerprint", [], {
      networks: location.networks,
      env: pgEnv(location),
    });
    const f = events.find((e) => e.event === "fingerprint")?.fingerprint;
    if (typeof f !== "string") throw new BackupError("no fingerprint read");
    return f;
  }

  /** The database as plain SQL (Odoo's `dump.sql`), streamed from the repository. */
  dumpSql(databaseSnapshot: string) {
    return this.agent.start("dump-sql", [databaseSnapshot], {});
  }

  /** One database's filestore directory as a tar stream. */
  dumpFiles(filestoreSnapshot: string, database: string): Promise<AgentStream> {
    return this.agent.start("dump-files", [filestoreSnapshot, database], {});
  }

  /** Applies the retention policy to one tenant's snapshots; the ids restic dropped. */
  async forget(tenantId: string, policy: RetentionPolicy): Promise<string[]> {
    await this.init();
    const events = await this.agent.run("forget", [
      tenantId,
      "--keep-daily",
      String(policy.daily),
      "--keep-weekly",
      String(policy.weekly),
      "--keep-monthly",
      String(policy.monthly),
    ]);
    const groups = (events.find((e) => e.event === "forgotten")?.groups ?? []) as {
      remove?: { id: string }[] | null;
    }[];
    return groups.flatMap((g) => (g.remove ?? []).map((s) => s.id));
  }

  /** Drops snapshots for good (a deleted tenant's last backups once their retention ended). */
  async forgetSnapshots(ids: string[]): Promise<void> {
    if (ids.length) await this.agent.run("forget-ids", ids);
  }

  /** Frees the space of forgotten snapshots (takes the repository's exclusive lock). */
  async prune(): Promise<void> {
    await this.agent.run("prune", []);
  }

  /** `restic check` reading back a share of the data, e.g. "5%". */
  async check(subset: string): Promise<void> {
    await this.init();
    await this.agent.run("check", [subset]);
  }
}
