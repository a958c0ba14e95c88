import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";

// The Automation API's own pieces: the in-process language server the CLI connects to with
// --client. Resolved through @pulumi/pulumi so the same copies are used.
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
/* eslint-disable @typescript-eslint/no-require-imports -- untyped SDK internals, same copies */
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
const langrpc = require("@pulumi/pulumi/proto/language_grpc_pb");
const { LanguageServer } = require("@pulumi/pulumi/automation/server");
/* eslint-enable @typescript-eslint/no-require-imports */

export interface BareStack {
  workDir: string;
  project: string;
  stack: string;
  backendUrl: string;
  passphrase: string;
  env: Record<string, string>;
}

function pulumi(stack: BareStack, args: string[]): Promise<void> {
  const env = { ...process.env, ...stack.env, PULUMI_CONFIG_PASSPHRASE: stack.passphrase };
  return new Promise((resolve, reject) =>
    execFile("pulumi", args, { cwd: stack.workDir, env }, (e, out, err) =>
      e ? reject(new Error(`pulumi ${args.join(" ")}: ${out}${err}`)) : resolve(),
    ),
  );
}

/** Creates the stack and its config once, outside the timed part. */
export async function bareCliInit(stack: BareStack, config: Record<string, string>): Promise<void> {
  fs.mkdirSync(stack.workDir, { recursive: true });
  fs.writeFileSync(
    path.join(stack.workDir, "Pulumi.yaml"),
    `name: ${stack.project}\nruntime: nodejs\nbackend:\n  url: ${stack.backendUrl}\n`,
  );
  await pulumi(stack, ["stack", "init", stack.stack, "--non-interactive"]);
  for (const [key, value] of Object.entries(config))
    await pulumi(stack, ["config", "set", "--secret", "--stack", stack.stack, key, value]);
}

/**
 * `pulumi up` run directly, as an operator would, on an inline program: one CLI process and
 * nothing else (no config reads, no output or history queries). The baseline of bench/automation.
 */
export async function bareCliUp(stack: BareStack, program: PulumiFn): Promise<void> {
  const server = new grpc.Server();
  const language = new LanguageServer(program);
  server.addService(langrpc.LanguageRuntimeService, language);
  const port: number = await new Promise((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (e: Error | null, p: number) => (e ? reject(e) : resolve(p)),
    ),
  );
  try {
    await pulumi(stack, [
      "up",
      "--yes",
      "--skip-preview",
      `--client=127.0.0.1:${port}`,
      "--exec-kind",
      "auto.inline",
      "--stack",
      stack.stack,
      "--non-interactive",
    ]);
    language.onPulumiExit(false);
  } finally {
    server.forceShutdown();
  }
}
