import * as pulumi from "@pulumi/pulumi";

interface Props {
  /** The tenant's directory as the control plane sees it (through its CephFS admin mount). */
  path: string;
  /** uid:gid that must own it (the Odoo image's `odoo` user). */
  owner: string;
  quotaBytes: number;
  /** `ceph.quota.max_bytes` on CephFS; tests use a `user.` attribute on a local file system. */
  quotaAttribute: string;
}

// Serialized into the state and run by `pulumi-resource-pulumi-nodejs`: modules only through
// `require` inside the functions.
async function apply(p: Props): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports -- serialized: no imports */
  const fs = require("node:fs") as typeof import("node:fs");
  const { execFile } = require("node:child_process") as typeof import("node:child_process");
  /* eslint-enable @typescript-eslint/no-require-imports */
  fs.mkdirSync(p.path, { recursive: true, mode: 0o750 });
  const [uid, gid] = p.owner.split(":").map(Number);
  fs.chownSync(p.path, uid, gid);
  // Node has no setxattr: the `attr` package's setfattr sets the quota attribute.
  await new Promise<void>((resolve, reject) =>
    execFile(
      "setfattr",
      ["-n", p.quotaAttribute, "-v", String(p.quotaBytes), p.path],
      (error, _out, stderr) =>
        error
          ? reject(
              new Error(`setfattr ${p.quotaAttribute} on ${p.path}: ${stderr || error.message}`),
            )
          : resolve(),
    ),
  );
}

export const cephfsDirectoryProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: Props, news: Props) {
    const replaces = olds.path !== news.path ? ["path"] : [];
    return {
      changes:
        replaces.length > 0 ||
        olds.owner !== news.owner ||
        olds.quotaBytes !== news.quotaBytes ||
        olds.quotaAttribute !== news.quotaAttribute,
      replaces,
      deleteBeforeReplace: false,
    };
  },
  async create(inputs: Props) {
    await apply(inputs);
    return { id: inputs.path, outs: inputs };
  },
  async update(_id, _olds: Props, news: Props) {
    await apply(news);
    return { outs: news };
  },
  async delete(_id, props: Props) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- serialized: no imports
    const fs = require("node:fs") as typeof import("node:fs");
    fs.rmSync(props.path, { recursive: true, force: true });
  },
};

/**
 * A tenant's CephFS directory: created (a kernel mount of a missing path fails), owned by the
 * Odoo user, its quota the plan's storage, changed in place on a plan change; removed with the
 * tenant (which is destroyed only after its final verified backup).
 */
export class CephfsDirectory extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { path: string; owner: string; quotaBytes: number; quotaAttribute?: string },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      cephfsDirectoryProvider,
      name,
      { ...args, quotaAttribute: args.quotaAttribute ?? "ceph.quota.max_bytes" },
      opts,
    );
  }
}
