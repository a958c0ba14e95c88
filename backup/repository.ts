import * as path from "node:path";
import type { MountSettings } from "dockerode";
import { z } from "zod";

/**
 * The restic repository every backup goes to. A local directory (an absolute path on the Docker
 * host, ideally its own volume or disk) is bind-mounted into the agent at /repo; any other value
 * is a restic repository URL (s3:…, sftp:…, rest:…, b2:…) and the variables named in `passEnv`
 * (e.g. AWS_ACCESS_KEY_ID) are handed to the agent from the API's environment.
 */
export const backupRepositorySchema = z.object({
  location: z
    .string()
    .min(1)
    .refine((v) => path.isAbsolute(v) || /^[a-z0-9]+:/.test(v), "an absolute path or a restic URL"),
  password: z.string().min(16, "the repository password: at least 16 characters"),
  passEnv: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/)).default([]),
});

export type BackupRepositorySettings = z.input<typeof backupRepositorySchema>;

export class BackupRepository {
  private readonly s: z.output<typeof backupRepositorySchema>;

  constructor(
    settings: BackupRepositorySettings,
    private readonly environment: NodeJS.ProcessEnv = process.env,
  ) {
    this.s = backupRepositorySchema.parse(settings);
  }

  get isLocal(): boolean {
    return path.isAbsolute(this.s.location);
  }

  /** Where restic finds the repository, as the agent sees it (for logs: carries no secret). */
  get location(): string {
    return this.s.location;
  }

  mounts(): MountSettings[] {
    return this.isLocal ? [{ Type: "bind", Source: this.s.location, Target: "/repo" }] : [];
  }

  /** The agent's restic variables. The password travels in the short-lived container's env. */
  env(): Record<string, string> {
    const passed = Object.fromEntries(
      this.s.passEnv
        .filter((name) => this.environment[name] !== undefined)
        .map((name) => [name, this.environment[name]!]),
    );
    return {
      ...passed,
      RESTIC_REPOSITORY: this.isLocal ? "/repo" : this.s.location,
      RESTIC_PASSWORD: this.s.password,
    };
  }
}
