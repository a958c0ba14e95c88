import * as fs from "node:fs";
import * as path from "node:path";

const LAUNCHER = "pulumi-resource-pulumi-nodejs";

/** Where a command named without a directory is found on PATH. */
function onPath(command: string): string | undefined {
  if (command.includes(path.sep)) return command;
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .map((dir) => path.join(dir, command))
    .find((file) => fs.existsSync(file));
}

/**
 * Dynamic providers run `pulumi-resource-pulumi-nodejs`, which resolves @pulumi/pulumi from its
 * working directory (the stack's work directory, which has no node_modules): NODE_PATH points it
 * at this installation. The CLI takes the launcher from beside itself (scripts/ensure-pulumi.sh
 * puts ours there); only a CLI without one gets @pulumi/pulumi's on PATH (with both, the engine
 * warns in every run).
 */
export function dynamicProviderEnv(cli = "pulumi"): Record<string, string> {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  const nodeModules = path.resolve(sdkDir, "..", "..");
  const found = onPath(cli);
  const besideCli = !!found && fs.existsSync(path.join(path.dirname(found), LAUNCHER));
  return {
    PATH: [besideCli ? undefined : sdkDir, process.env.PATH].filter(Boolean).join(path.delimiter),
    NODE_PATH: [nodeModules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter),
  };
}
