import { z } from "zod";

/** Where tenant filestores live: CephFS in production, Docker-managed local volumes otherwise. */
export const filestoreBackendSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("local") }),
  z.strictObject({
    kind: z.literal("cephfs"),
    /** Comma-separated monitor addresses, e.g. `10.0.0.1:6789,10.0.0.2:6789`. */
    monitors: z.string().min(1),
    /** Path inside CephFS under which `odoo_instances/<tenant>` directories live. */
    root: z.string().min(1),
    /** CephX user and the secret file present on every Docker node. */
    user: z.string().min(1),
    secretFile: z.string().min(1),
    /** CephFS file system name, when the cluster has more than one. */
    fsName: z.string().optional(),
  }),
]);

export type FilestoreBackend = z.infer<typeof filestoreBackendSchema>;

export interface FilestoreVolumeArgs {
  driver: string;
  driverOpts: Record<string, string>;
}

/** The tenant's directory inside CephFS. */
export function cephfsTenantPath(root: string, tenantId: string): string {
  return `${root.replace(/\/+$/, "")}/odoo_instances/${tenantId}`;
}

/**
 * Docker `local` driver options for the filestore volume: a kernel CephFS mount of the tenant's
 * own directory (so a compromised tenant sees nothing else), or a plain local volume. The quota
 * is not a mount option on CephFS: it is the directory's `ceph.quota.max_bytes` attribute, set
 * where the directory is created (see the README).
 */
export function filestoreVolumeArgs(
  backend: FilestoreBackend,
  tenantId: string,
): FilestoreVolumeArgs {
  if (backend.kind === "local") return { driver: "local", driverOpts: {} };
  const options = [`name=${backend.user}`, `secretfile=${backend.secretFile}`];
  if (backend.fsName) options.push(`fs=${backend.fsName}`);
  return {
    driver: "local",
    driverOpts: {
      type: "ceph",
      device: `${backend.monitors}:${cephfsTenantPath(backend.root, tenantId)}`,
      o: options.join(","),
    },
  };
}
