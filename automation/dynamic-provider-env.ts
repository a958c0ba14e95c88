import * as path from "node:path";

/**
 * Dynamic providers run `pulumi-resource-pulumi-nodejs`, a script shipped in @pulumi/pulumi that
 * the CLI looks up on PATH and that resolves @pulumi/pulumi from its working directory (the stack's
 * work directory, which has no node_modules): point both at this installation.
 */
export function dynamicProviderEnv(): Record<string, string> {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  const nodeModules = path.resolve(sdkDir, "..", "..");
  return {
    PATH: [sdkDir, process.env.PATH].filter(Boolean).join(path.delimiter),
    NODE_PATH: [nodeModules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter),
  };
}
