import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError, Option } from "commander";
import {
  StackRunner,
  TenantStacks,
  automationSettingsFromEnv,
  type AutomationSettings,
  type TenantProgramFactory,
} from "../automation";
import {
  fleetDrift,
  fleetPreview,
  fleetUp,
  type FleetOptions,
  type FleetResult,
  type FleetSpec,
} from "../automation/fleet";
import { fleetPreviewMarkdown } from "../automation/fleet-report";
import { driftMarkdown } from "../automation/drift-report";
import { rollout, rolloutOrder } from "../automation/rollout";
import { RolloutJournal, RolloutJournalError } from "../automation/rollout-journal";
import { waitForRoute } from "../automation/route-health";
import { rolloutReporter } from "./rollout-reporter";
import { setUpKillBill } from "../api/killbill/setup";
import { killBillCatalogXml, killBillOverdueXml, loadCatalog, type Catalog } from "../catalog";
import { InvalidTenantSpecError, type TenantSpecInput } from "../stacks/tenant/tenant-spec";
import { AdminApi } from "./api-client";
import { FleetStore } from "./fleet-store";
import { SourceError, loadSpecs } from "./tenant-source";

export interface CliDeps {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The tenant program; the real one by default. */
  programFor?: TenantProgramFactory;
  /** Settings; from the environment by default. */
  settings?: AutomationSettings;
  /** The plan catalog; the project's by default. */
  catalog?: Catalog;
  /** A terminal to draw progress bars on (stderr when it is one). */
  terminal?: NodeJS.WritableStream;
}

/** Exit codes: 0 done, 1 an operation failed, 2 the command or its input is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

class UsageError extends Error {}

/** The operator CLI (`odoo-saas`); returns the exit code instead of exiting, for tests. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const out = (text: string) => deps.stdout(text.endsWith("\n") ? text : `${text}\n`);
  const err = (text: string) => deps.stderr(text.endsWith("\n") ? text : `${text}\n`);
  let exitCode: number = EXIT.ok;
  let stacks: TenantStacks | undefined;
  let settings: AutomationSettings | undefined;
  const automationSettings = () =>
    (settings ??= deps.settings ?? automationSettingsFromEnv(deps.env));
  const tenantStacks = () =>
    (stacks ??= new TenantStacks(new StackRunner(automationSettings()), deps.programFor, {
      catalog: deps.catalog,
    }));
  const specs = (opts: { specs?: string }) =>
    loadSpecs({ specs: opts.specs, databaseUrl: deps.env.DATABASE_URL });
  const specFor = async (id: string, opts: { specs?: string }): Promise<TenantSpecInput> => {
    const found = (await specs(opts)).find((s) => s.tenantId === id);
    if (!found) throw new UsageError(`no spec for tenant ${id} in ${opts.specs ?? "the store"}`);
    return found;
  };
  const json = (value: unknown) => out(JSON.stringify(value, null, 2));
  const progress =
    (label: string): FleetOptions["onResult"] =>
    (r, done, total) =>
      err(
        `[${done}/${total}] ${r.tenantId}: ${r.ok ? label : `failed: ${r.error.split("\n")[0]}`} (${r.seconds.toFixed(1)}s)`,
      );
  const specsOption = new Option(
    "--specs <file>",
    "JSON array of tenant specs (default: the API store at DATABASE_URL)",
  );

  const program = new Command("odoo-saas")
    .description(
      "Operate odoo-saas tenant stacks (the platform itself: pulumi up / pulumi preview)",
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.stdout(s), writeErr: (s) => deps.stderr(s) })
    .showHelpAfterError();

  const tenants = program.command("tenants").description("one tenant stack at a time");
  tenants
    .command("list")
    .description("tenant stacks in the state backend")
    .option("--json", "machine-readable output")
    .action(async (o) => {
      const names = await tenantStacks().list();
      if (o.json) json(names);
      else out(names.length ? names.join("\n") : "(no tenant stacks)");
    });
  tenants
    .command("show <tenantId>")
    .description("a tenant stack's outputs (secrets masked)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const outputs = await tenantStacks().outputs(id);
      if (o.json) json(outputs);
      else
        for (const [k, v] of Object.entries(outputs).sort())
          out(`${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    });
  const upCommand = (name: string, description: string, state?: "active" | "suspended") =>
    tenants
      .command(`${name} <tenantId>`)
      .description(description)
      .addOption(specsOption)
      .option("--json", "machine-readable output")
      .action(async (id, o) => {
        const spec = { ...(await specFor(id, o)), ...(state ? { state } : {}) };
        const result = await tenantStacks().up(spec, {
          onProgress: (e) =>
            e.kind === "resource-finished" &&
            err(`${e.failed ? "failed" : e.op} ${e.type} ${e.name}`),
        });
        if (o.json) json(result);
        else
          out(
            `${id}: ${Object.entries(result.changes)
              .sort()
              .map(([k, v]) => `${v} ${k}`)
              .join(", ")}`,
          );
      });
  upCommand("up", "create or update the tenant's stack from its spec");
  upCommand(
    "suspend",
    "run the stack suspended (stopped, data kept); the API's desired state wins at its next reconcile",
    "suspended",
  );
  upCommand("resume", "run the stack active", "active");
  tenants
    .command("preview <tenantId>")
    .description("what up would change")
    .addOption(specsOption)
    .option("--json", "structured diff instead of the engine's text")
    .action(async (id, o) => {
      const result = await tenantStacks().preview(await specFor(id, o));
      if (o.json) json({ changes: result.changes, counts: result.counts });
      else out(result.text);
    });
  tenants
    .command("destroy <tenantId>")
    .description(
      "remove every resource of the tenant (database and filestore included) and its stack",
    )
    .option("--yes", "confirm: this deletes customer data")
    .action(async (id, o) => {
      if (!o.yes) throw new UsageError(`destroy deletes ${id}'s data: repeat with --yes`);
      const changes = await tenantStacks().destroy(id);
      out(`${id}: destroyed (${changes.delete ?? 0} resources)`);
    });

  // Backups and restores run in the API (serialized with the tenant's other operations).
  const adminApi = () => AdminApi.fromEnv(deps.env);
  /** Every tenant the API knows, page after page, in id order. */
  const everyTenant = async <V>(): Promise<V[]> => {
    const all: V[] = [];
    for (let cursor: string | null = null; ;) {
      const page: { tenants: V[]; nextCursor: string | null } = await adminApi().call(
        "GET",
        `/admin/tenants?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      all.push(...page.tenants);
      cursor = page.nextCursor;
      if (!cursor) return all;
    }
  };
  const runOperation = async (queued: { id: string }, o: { json?: boolean }) => {
    err(`operation ${queued.id} queued`);
    const op = await adminApi().follow(queued.id, (status) =>
      err(`operation ${queued.id}: ${status}`),
    );
    if (o.json) json(op);
    if (op.status !== "succeeded") {
      err(`error: ${op.error ?? op.status}`);
      exitCode = EXIT.failed;
    }
    return op;
  };
  tenants
    .command("status [tenantId]")
    .description("instance status as the engine reports it, and billing status (through the API)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      type View = {
        id: string;
        status: string;
        desiredState: string;
        plan: string;
        dataKeptUntil: string | null;
        billing: { status: string | null; endsOn: string | null } | null;
      };
      const views = id
        ? [await adminApi().call<View>("GET", `/admin/tenants/${id}`)]
        : await everyTenant<View>();
      if (o.json) json(views);
      else
        for (const v of views)
          out(
            `${v.id.padEnd(24)} ${v.status.padEnd(10)} ${v.plan.padEnd(10)} ` +
              `${(v.billing?.status ?? "-").padEnd(16)}` +
              (v.billing?.endsOn ? ` ends on ${v.billing.endsOn}` : "") +
              (v.dataKeptUntil ? ` data kept until ${v.dataKeptUntil.slice(0, 10)}` : ""),
          );
    });
  tenants
    .command("backup <tenantId>")
    .description("take a verified backup now (through the API: ODOO_SAAS_API_URL, ADMIN_TOKEN)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const op = await runOperation(
        await adminApi().call("POST", `/admin/tenants/${id}/backups`),
        o,
      );
      if (!o.json && op.status === "succeeded")
        out(`${id}: backup ${(op.details as { backupId: string }).backupId}`);
    });
  tenants
    .command("backups <tenantId>")
    .description("the tenant's backups, newest first")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const list = await adminApi().call<Record<string, unknown>[]>(
        "GET",
        `/admin/tenants/${id}/backups`,
      );
      if (o.json) json(list);
      else
        for (const b of list)
          out(
            `${b.id}  ${b.startedAt}  ${String(b.reason).padEnd(13)} ${String(b.status).padEnd(9)} ` +
              `${b.forgottenAt ? "forgotten" : b.verifiedAt ? "verified" : ""}`,
          );
    });
  tenants
    .command("restore <tenantId>")
    .description("restore a backup into the tenant (or --into another tenant id, a copy)")
    .option("--backup <id>", "the backup (default: the newest verified one)")
    .option("--into <tenantId>", "restore into this tenant id instead (created when missing)")
    .option("--json", "machine-readable output")
    .action(async (id, o) => {
      const body = {
        ...(o.backup ? { backupId: o.backup } : {}),
        ...(o.into ? { targetTenantId: o.into } : {}),
      };
      const op = await runOperation(
        await adminApi().call("POST", `/admin/tenants/${id}/restore`, body),
        o,
      );
      if (!o.json && op.status === "succeeded") out(`${o.into ?? id}: restored`);
    });
  tenants
    .command("export <tenantId>")
    .description("download Odoo's backup zip of a backup (the newest verified one by default)")
    .requiredOption("--out <file>", "where to write the zip")
    .option("--backup <id>", "the backup")
    .action(async (id, o) => {
      const size = await adminApi().download(
        `/admin/tenants/${id}/export${o.backup ? `?backup=${encodeURIComponent(o.backup)}` : ""}`,
        o.out,
      );
      out(`${id}: wrote ${o.out} (${size} bytes)`);
    });

  const fleet = program.command("fleet").description("every tenant at once");
  const fleetCommand = (name: string) =>
    fleet
      .command(name)
      .addOption(specsOption)
      .addOption(
        new Option("--concurrency <n>", "tenants at once").default(4).argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1 || n > 64)
            throw new UsageError("--concurrency takes a whole number from 1 to 64");
          return n;
        }),
      );
  /** The API's store when it is the source of the specs (no --specs file). */
  const fleetStore = (o: { specs?: string; concurrency?: number }) =>
    !o.specs && deps.env.DATABASE_URL
      ? FleetStore.open(deps.env.DATABASE_URL, o.concurrency)
      : undefined;
  /** Where the fingerprints of applied stacks are read: the store, else each stack's outputs. */
  const appliedFingerprints = async (store: FleetStore | undefined) => {
    if (store) {
      const stored = await store.appliedFingerprints();
      return async (id: string) => stored.get(id);
    }
    return (id: string) => tenantStacks().appliedFingerprint(id);
  };
  /** The tenants whose inputs differ from those their stack was applied with (all with --all). */
  const changedSpecs = async (o: { specs?: string; all?: boolean }, store?: FleetStore) => {
    const all = (await specs(o)) as FleetSpec[];
    if (o.all) return all;
    const applied = await appliedFingerprints(store);
    const changed = await Promise.all(
      all.map(async (s) => (await tenantStacks().fingerprint(s)) !== (await applied(s.tenantId))),
    );
    return all.filter((_, i) => changed[i]);
  };
  fleetCommand("preview")
    .description(
      "preview the tenants whose inputs changed since they were applied (--all: every tenant); --markdown for a pull-request comment",
    )
    .option("--all", "preview every tenant, even those whose inputs are as applied")
    .option("--markdown", "a Markdown report")
    .option("--changed-only", "leave unchanged tenants out")
    .option("--json", "machine-readable output")
    .action(async (o) => {
      const store = fleetStore(o);
      const results = await fleetPreview(tenantStacks(), (await specs(o)) as FleetSpec[], {
        concurrency: o.concurrency,
        onResult: progress("previewed"),
        applied: o.all ? undefined : await appliedFingerprints(store),
      }).finally(() => store?.close());
      if (o.json)
        json(
          results.map((r) =>
            r.ok ? { ...r, value: { changes: r.value.changes, counts: r.value.counts } } : r,
          ),
        );
      else if (o.markdown) out(fleetPreviewMarkdown(results, { changedOnly: o.changedOnly }));
      else
        for (const r of results)
          if (!o.changedOnly || !r.ok || r.value.changes.length) out(summaryLine(r));
      if (results.some((r) => !r.ok)) exitCode = EXIT.failed;
    });
  const count = (flag: string, least: number) => (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < least)
      throw new UsageError(`${flag} takes a whole number of at least ${least}`);
    return n;
  };
  fleetCommand("up")
    .description(
      "roll the tenants whose inputs changed (--all: every tenant) to their specs: a canary, then batches, each backed up first; stops on failures, resumes with --resume",
    )
    .option("--all", "every tenant, even those whose inputs are as applied")
    .addOption(
      new Option("--canary <n>", "tenants applied first; any failure stops the rollout")
        .default(1)
        .argParser(count("--canary", 0)),
    )
    .addOption(
      new Option("--batch-size <n>", "tenants per batch after the canary")
        .default(10)
        .argParser(count("--batch-size", 1)),
    )
    .addOption(
      new Option("--max-failures <n>", "stop the rollout once this many tenants failed")
        .default(1)
        .argParser(count("--max-failures", 1)),
    )
    .option("--resume", "continue the rollout that stopped or was killed")
    .option(
      "--state-file <file>",
      "where the rollout's progress is kept (default: <data dir>/rollouts/fleet-up.json)",
    )
    .option(
      "--health-path <path>",
      "after each up, this path of an active tenant's route must answer 2xx",
      "/web/health",
    )
    .option("--no-health-check", "no health check after each up")
    .option(
      "--health-via <url>",
      "reach tenants' routes through this http:// router address (Host header: the tenant's)",
    )
    .addOption(
      new Option("--health-timeout <s>", "seconds a tenant's route has to answer")
        .default(120)
        .argParser(count("--health-timeout", 1)),
    )
    .option("--no-backup", "no backup before each batch (else one per tenant, through the API)")
    .option("--json", "one JSON line per event instead of a progress bar")
    .action(async (o) => {
      if (o.backup && !deps.env.ADMIN_TOKEN)
        throw new UsageError(
          "fleet up backs up each batch through the API: set ODOO_SAAS_API_URL and ADMIN_TOKEN, or pass --no-backup",
        );
      const store = fleetStore(o);
      try {
        const fleetSpecs = o.resume
          ? ((await specs(o)) as FleetSpec[])
          : await changedSpecs(o, store);
        const outputs = new Map<string, Record<string, unknown>>();
        const up = async (spec: FleetSpec) => {
          const run = () => tenantStacks().up(spec);
          const result = store ? await store.applying(spec.tenantId, run) : await run();
          outputs.set(spec.tenantId, result.outputs);
        };
        const health = async (spec: FleetSpec) => {
          const url = outputs.get(spec.tenantId)?.url;
          if (spec.state === "suspended" || typeof url !== "string") return; // no route to check
          await waitForRoute({
            url,
            path: o.healthPath,
            via: o.healthVia,
            timeoutMs: o.healthTimeout * 1000,
          });
        };
        /** An operation of the API's, followed to its end; throws unless it succeeded. */
        const apiOperation = async (what: string, path: string, body?: unknown) => {
          const queued = await adminApi().call<{ id: string }>("POST", path, body);
          const op = await adminApi().follow(queued.id, () => undefined);
          if (op.status !== "succeeded") throw new Error(`${what} ${op.status}: ${op.error ?? ""}`);
          return op;
        };
        const backup = async (spec: FleetSpec) => {
          const op = await apiOperation("backup", `/admin/tenants/${spec.tenantId}/backups`);
          return (op.details as { backupId?: string } | null)?.backupId;
        };
        const restore = async (spec: FleetSpec, backupId: string) => {
          await apiOperation("restore", `/admin/tenants/${spec.tenantId}/restore`, { backupId });
        };
        const report = rolloutReporter(!!o.json, deps.terminal, out, err);
        const ok = await rollout(
          fleetSpecs,
          rolloutOrder(fleetSpecs, deps.catalog ?? loadCatalog()),
          {
            up,
            health: o.healthCheck ? health : undefined,
            ...(o.backup ? { backup, restore } : {}),
          },
          {
            canary: o.canary,
            batchSize: o.batchSize,
            maxFailures: o.maxFailures,
            concurrency: o.concurrency,
            resume: !!o.resume,
            journal: new RolloutJournal(
              o.stateFile ?? path.join(automationSettings().dataDir, "rollouts", "fleet-up.json"),
            ),
            onEvent: report,
          },
        );
        if (!ok) exitCode = EXIT.failed;
      } finally {
        await store?.close();
      }
    });

  fleetCommand("drift")
    .description(
      "report resources changed or deleted out of band (refresh, preview only); --fix runs up for the drifted tenants",
    )
    .option("--fix", "bring each drifted tenant back to its spec (an up)")
    .option("--markdown", "a Markdown report")
    .option("--json", "machine-readable output")
    .action(async (o) => {
      const store = fleetStore(o);
      try {
        const all = (await specs(o)) as FleetSpec[];
        const results = await fleetDrift(tenantStacks(), all, {
          concurrency: o.concurrency,
          onResult: progress("checked"),
        });
        const drifted = results.filter((r) => r.ok && r.value.length > 0);
        const fixed = new Set<string>();
        if (o.fix)
          for (const r of await fleetUp(
            tenantStacks(),
            all.filter((s) => drifted.some((d) => d.tenantId === s.tenantId)),
            {
              concurrency: o.concurrency,
              onResult: progress("fixed"),
              refresh: true,
              apply: store ? (id, up) => store.applying(id, up) : undefined,
            },
          ))
            if (r.ok) fixed.add(r.tenantId);
        if (o.json) json(results.map((r) => (r.ok ? { ...r, fixed: fixed.has(r.tenantId) } : r)));
        else if (o.markdown) out(driftMarkdown(results, fixed));
        else
          for (const r of results)
            out(
              !r.ok
                ? `${r.tenantId}: not checked: ${r.error.split("\n")[0]}`
                : r.value.length
                  ? `${r.tenantId}: ${r.value.map((c) => `${c.op === "delete" ? "deleted" : "changed"} ${c.name}`).join(", ")}${fixed.has(r.tenantId) ? " (fixed)" : ""}`
                  : `${r.tenantId}: no drift`,
            );
        const unfixed = drifted.filter((r) => !fixed.has(r.tenantId));
        if (unfixed.length || results.some((r) => !r.ok)) exitCode = EXIT.failed;
      } finally {
        await store?.close();
      }
    });

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
        out(`wrote ${path.join(o.out, file)}`);
      }
    });

  program
    .command("killbill")
    .description("the Kill Bill side")
    .command("setup")
    .description(
      "create the Kill Bill tenant, upload the catalog and overdue XML, register the webhook (idempotent)",
    )
    .requiredOption("--callback <url>", "the API's webhook URL, with its secret")
    .action(async (o) => {
      const e = deps.env;
      const required = (key: string) => {
        if (!e[key]) throw new UsageError(`${key} is required`);
        return e[key]!;
      };
      const steps = await setUpKillBill(
        {
          url: e.KILLBILL_URL ?? "http://127.0.0.1:8080",
          username: e.KILLBILL_USERNAME ?? "admin",
          password: required("KILLBILL_PASSWORD"),
          apiKey: required("KILLBILL_API_KEY"),
          apiSecret: required("KILLBILL_API_SECRET"),
        },
        loadCatalog(),
        o.callback,
      );
      for (const step of steps) out(step);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (
      e instanceof UsageError ||
      e instanceof SourceError ||
      e instanceof RolloutJournalError ||
      e instanceof InvalidTenantSpecError
    ) {
      err(`error: ${e.message}`);
      return EXIT.usage;
    }
    err(`error: ${(e as Error).message}`);
    return EXIT.failed;
  }
}

function summaryLine(
  r: FleetResult<{ changes: unknown[]; counts: Record<string, number> }>,
): string {
  if (!r.ok) return `${r.tenantId}: error: ${r.error.split("\n")[0]}`;
  const changes = Object.entries(r.value.counts)
    .filter(([op]) => op !== "same")
    .map(([op, n]) => `${n} to ${op}`);
  return `${r.tenantId}: ${changes.length ? changes.join(", ") : "no changes"}`;
}
