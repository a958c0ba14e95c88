// The CephFS directory step (components/tenant/cephfs-directory.ts) through the real engine, on a
// local directory standing in for the control plane's CephFS admin mount: created and owned by the
// Odoo user with the plan's quota as an extended attribute (a `user.` attribute here: local file
// systems refuse the `ceph.` namespace, which only CephFS serves), the quota changed in place on
// a plan change, the directory removed with the tenant.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { scratchRunner } from "./helpers/scratch-runner";
import { CephfsDirectory } from "../components/tenant/cephfs-directory";

const ATTRIBUTE = "user.ceph.quota.max_bytes";
const GB = 1024 ** 3;
const { runner, dataDir, remove } = scratchRunner("cephfs");
const adminMount = path.join(dataDir, "cephfs-admin");
const tenantDir = path.join(adminMount, "volumes/saas/odoo_instances/acme");
const target = (storageGb: number) => ({
  project: "odoo-saas-cephfs-test",
  stack: "acme",
  program: async () => {
    new CephfsDirectory("acme-filestore-directory", {
      path: tenantDir,
      owner: "101:101",
      quotaBytes: storageGb * GB,
      quotaAttribute: ATTRIBUTE,
    });
  },
});
const quota = () =>
  execFileSync("getfattr", ["--only-values", "-n", ATTRIBUTE, tenantDir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });

afterAll(remove);

it("creates, owns and sizes the tenant directory; a plan change updates the quota in place; destroy removes it", async () => {
  const created = await runner.up(target(10));
  expect(created.changes.create).toBe(2); // the stack and the directory
  const stat = fs.statSync(tenantDir);
  expect([stat.isDirectory(), stat.uid, stat.gid]).toEqual([true, 101, 101]);
  expect(quota()).toBe(String(10 * GB));
  fs.writeFileSync(path.join(tenantDir, "invoice.pdf"), "customer data");

  const resized = await runner.up(target(50));
  expect(resized.changes).toEqual({ same: 1, update: 1 });
  expect(quota()).toBe(String(50 * GB));
  expect(fs.readFileSync(path.join(tenantDir, "invoice.pdf"), "utf8")).toBe("customer data");

  await runner.destroy(target(50));
  expect(fs.existsSync(tenantDir)).toBe(false);
  expect(fs.existsSync(path.dirname(tenantDir))).toBe(true); // other tenants' parent stays
});
