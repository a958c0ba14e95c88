import * as pulumi from "@pulumi/pulumi";

interface Props {
  /** A value to keep instead of generating one (a tenant's password from before this resource). */
  initial?: string;
  value?: string;
}

const provider: pulumi.dynamic.ResourceProvider = {
  // Made once, kept for good: nothing given later (an initial value or none) ever changes it.
  async diff() {
    return { changes: false };
  },
  async create(inputs: Props) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- serialized: no imports
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const value = inputs.initial || crypto.randomBytes(24).toString("base64url");
    return { id: crypto.randomUUID(), outs: { value } };
  },
};

/** Its type is named so a tenant's stack shows what it is (`pulumi-nodejs:dynamic/odoo-saas:…`). */
export const GENERATED_SECRET = "GeneratedSecret";

/**
 * A secret generated once and kept in the stack's state (encrypted), like a password resource:
 * every process and CLI that runs the stack, on any host, gets the same value from the state
 * backend, and nothing of it lives in a working directory. `initial` adopts an existing value.
 */
export class GeneratedSecret extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;

  constructor(
    name: string,
    args: { initial?: pulumi.Input<string | undefined> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      provider,
      name,
      { initial: args.initial ? pulumi.secret(args.initial) : undefined, value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] },
      "odoo-saas",
      GENERATED_SECRET,
    );
  }
}
