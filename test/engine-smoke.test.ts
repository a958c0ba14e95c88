// Real-engine smoke test: the Pulumi CLI built by scripts/ensure-pulumi.sh, driven through the
// Automation API with an inline program, on a file:// backend in a temporary directory.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";

import { version as pinnedVersion } from "@pulumi/pulumi/package.json";

class Greeting extends pulumi.ComponentResource {
  readonly text: pulumi.Output<string>;
  constructor(name: string, who: string, opts?: pulumi.ComponentResourceOptions) {
    super("smoke:index:Greeting", name, {}, opts);
    this.text = pulumi.output(`hello ${who}`);
    this.registerOutputs({ text: this.text });
  }
}

describe("Pulumi engine smoke test (real CLI, file:// backend)", () => {
  let stateDir: string;

  beforeAll(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-smoke-"));
  });
  afterAll(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  it("the CLI on PATH reports the version pinned in package-lock", async () => {
    const cmd = await PulumiCommand.get();
    expect(cmd.version?.toString()).toBe(pinnedVersion);
  });

  it("up -> outputs -> preview without changes -> destroy -> stack removed", async () => {
    const program = async () => {
      const greeting = new Greeting("greeting", "odoo");
      return { text: greeting.text, answer: 42 };
    };
    const stack = await LocalWorkspace.createStack(
      { stackName: "smoke", projectName: "odoo-saas-smoke", program },
      {
        envVars: {
          PULUMI_BACKEND_URL: `file://${stateDir}`,
          PULUMI_CONFIG_PASSPHRASE: "smoke-test-passphrase",
          PULUMI_SKIP_UPDATE_CHECK: "true",
        },
      },
    );

    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ create: 2 }); // the stack + the component
    expect(up.outputs.text.value).toBe("hello odoo");
    expect(up.outputs.answer.value).toBe(42);
    expect((await stack.outputs()).text.value).toBe("hello odoo");

    const preview = await stack.preview({ expectNoChanges: true });
    expect(preview.changeSummary).toEqual({ same: 2 });

    const destroyed = await stack.destroy();
    expect(destroyed.summary.result).toBe("succeeded");
    expect(destroyed.summary.resourceChanges).toEqual({ delete: 2 });

    await stack.workspace.removeStack("smoke");
    const remaining = await stack.workspace.listStacks();
    expect(remaining.map((s) => s.name)).not.toContain("smoke");
  });
});
