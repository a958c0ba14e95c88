import { isIP } from "node:net";
import { z } from "zod";

/** `<IP>` or `<IP>:<port>` (IPv6 in brackets when a port follows). */
function isMonitorAddress(text: string): boolean {
  const bracketed = text.match(/^\[([^\]]+)\](?::(\d{1,5}))?$/);
  if (bracketed) return isIP(bracketed[1]) === 6;
  if (isIP(text)) return true;
  const [host, port, ...rest] = text.split(":");
  return rest.length === 0 && isIP(host) === 4 && /^\d{1,5}$/.test(port ?? "");
}

/** Where tenant filestores live: CephFS in production, Docker-managed local volumes otherwise. */
export const filestoreBackendSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("local") }),
  z.strictObject({
    kind: z.literal("cephfs"),
    /**
     * Comma-separated monitor addresses, e.g. `10.0.0.1:6789,10.0.0.2:6789`. IP addresses only:
     * Docker's local driver calls mount(2) itself, and only the `mount.ceph` helper (not run
     * there) resolves host names.
     */
    monitors: z
      .string()
      .min(1)
      .refine((m) => m.split(",").every((a) => isMonitorAddress(a.trim())), {
        message:
          "monitor addresses must be IP[:port], comma-separated: the kernel mount Docker does cannot resolve host names",
      }),
    /** Path inside CephFS under which `odoo_instances/<tenant>` directories live. */
    root: z.string().regex(/^\//, "an absolute path inside CephFS"),
    /** CephX user the Docker nodes mount with (its key: the platform's `cephfsSecret`). */
    user: z.string().min(1),
    /** CephFS file system name, when the cluster has more than one (`mds_namespace=`). */
    fsName: z.string().optional(),
    /**
     * Where the control plane (the API host) has CephFS `/` mounted with a user allowed to create
     * directories and set quotas: each tenant's directory is created, owned and given its quota
     * there before Docker mounts it.
     */
    adminMountPath: z.string().regex(/^\//, "an absolute path on the control plane host"),
    /** uid:gid of the Odoo image's `odoo` user, who must own the directory. */
    owner: z
      .string()
      .regex(/^\d+:\d+$/, "uid:gid")
      .default("101:101"),
  }),
]);

export type FilestoreBackend = z.infer<typeof filestoreBackendSchema>;
export type CephfsBackend = Extract<FilestoreBackend, { kind: "cephfs" }>;

/** The tenant's directory inside CephFS. */
export function cephfsTenantPath(root: string, tenantId: string): string {
  return `${root.replace(/\/+$/, "")}/odoo_instances/${tenantId}`;
}

/** The same directory as the control plane sees it through its admin mount. */
export function cephfsAdminPath(backend: CephfsBackend, tenantId: string): string {
  return `${backend.adminMountPath.replace(/\/+$/, "")}${cephfsTenantPath(backend.root, tenantId)}`;
}

/**
 * Docker `local` driver options for a kernel CephFS mount of the tenant's own directory (so a
 * compromised tenant sees nothing else). The kernel takes the CephX key itself (`secret=`; the
 * `secretfile=` option belongs to the `mount.ceph` helper, which Docker never runs), and
 * `mds_namespace=` names the file system on every kernel (`fs=` only on recent ones). The key is
 * therefore part of the volume's options: the stack keeps them encrypted, and `docker volume
 * inspect` shows them to whoever may use the Docker API anyway.
 */
export function cephfsVolumeOptions(
  backend: CephfsBackend,
  tenantId: string,
  key: string,
): Record<string, string> {
  const options = [`name=${backend.user}`, `secret=${key}`];
  if (backend.fsName) options.push(`mds_namespace=${backend.fsName}`);
  return {
    type: "ceph",
    device: `${backend.monitors
      .split(",")
      .map((m) => m.trim())
      .join(",")}:${cephfsTenantPath(backend.root, tenantId)}`,
    o: options.join(","),
  };
}
