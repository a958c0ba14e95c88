import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import stringify from "safe-stable-stringify";
import type { Plan } from "../catalog";
import type { TenantSpec } from "../stacks/tenant/tenant-spec";

/** The stack output that records the fingerprint of the inputs it was applied with. */
export const FINGERPRINT_OUTPUT = "inputsFingerprint";

/** Catalog fields only billing reads: a price or trial change leaves every stack as it is. */
const BILLING_ONLY: readonly (keyof Plan)[] = [
  "displayName",
  "trialDays",
  "trialOnly",
  "dataRetentionDays",
  "backupRetention",
  "monthlyPrice",
  "killbill",
];

/** Everything that decides what a tenant's program declares. */
export interface FingerprintInputs {
  spec: TenantSpec;
  plan: Plan;
  /** `platformFingerprint` of the platform outputs the program reads. */
  platform: string;
  /** `programVersion()`: the code that turns these inputs into resources. */
  program: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * A digest of a tenant program's inputs: equal digests declare the same resources, so a stack
 * applied with this digest needs no preview and no `up` (unless changed out of band: drift).
 */
export function inputsFingerprint(i: FingerprintInputs): string {
  const plan = Object.fromEntries(
    Object.entries(i.plan).filter(([k]) => !BILLING_ONLY.includes(k as keyof Plan)),
  );
  return sha256(stringify({ spec: i.spec, plan, platform: i.platform, program: i.program })!);
}

/**
 * The platform outputs a tenant program reads. Secrets enter as digests of digests only, so the
 * fingerprint (stored in the API's database and stack outputs) reveals nothing about them.
 */
export function platformFingerprint(platform: PlatformInputs): string {
  return sha256(stringify(platformFingerprintDocument(platform))!);
}

interface PlatformInputs {
  outputs: Record<string, unknown> | null;
  /** The control plane's own address of the platform's PostgreSQL, when set. */
  postgresAdmin?: { host: string; port: number };
}

/** What the platform's part of a fingerprint is computed from (secrets as digests of digests). */
export function platformFingerprintDocument(platform: PlatformInputs): Record<string, unknown> {
  const o = platform.outputs;
  const secret = (v: unknown) => (v === undefined ? null : sha256(sha256(String(v))));
  return {
    tenantSettings: o?.tenantSettings ?? null,
    postgresAdminPassword: secret(o?.postgresAdminPassword),
    filestoreKey: secret(o?.filestoreKey),
    postgresAdmin: platform.postgresAdmin ?? null,
  };
}

/** The source whose change may change any tenant's resources (the tenant program's code). */
const PROGRAM_SOURCES = ["components", "stacks/tenant", "providers/docker-bridge"];
const PROGRAM_PACKAGES = ["@pulumi/pulumi", "@pulumi/docker"];

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.(ts|go|mod)$/.test(e.name) && !e.name.endsWith(".test.ts") ? [full] : [];
  });
}

let cachedVersion: string | undefined;

/**
 * A digest of the tenant program's code (its sources, as this process runs them from source)
 * and of the Pulumi SDK and provider versions it uses. Computed once per process.
 */
export function programVersion(
  root = path.resolve(__dirname, ".."),
  opts: { fresh?: boolean } = {},
): string {
  if (cachedVersion && !opts.fresh) return cachedVersion;
  const hash = createHash("sha256");
  for (const file of PROGRAM_SOURCES.flatMap((d) => sourceFiles(path.join(root, d))).sort()) {
    hash.update(path.relative(root, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  for (const pkg of PROGRAM_PACKAGES) {
    const manifest = fs.readFileSync(require.resolve(`${pkg}/package.json`), "utf8");
    hash.update(`${pkg}@${(JSON.parse(manifest) as { version: string }).version}\0`);
  }
  const version = hash.digest("hex");
  if (!opts.fresh) cachedVersion = version;
  return version;
}
