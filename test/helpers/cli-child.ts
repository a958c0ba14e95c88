// The operator CLI with the provider-free stand-in program, in a process of its own so a test
// can kill it mid-command. Settings come as JSON in CLI_CHILD_SETTINGS; STAND_IN_DELAY_MS makes
// every engine run of the program that much longer.
import { runCli } from "../../cli/cli";
import { providerFreeTenantProgram, type StandInSpec } from "../provider-free-program";

const delayMs = Number(process.env.STAND_IN_DELAY_MS ?? 0);
runCli(process.argv.slice(2), {
  env: {},
  settings: JSON.parse(process.env.CLI_CHILD_SETTINGS!),
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  programFor: (s) => providerFreeTenantProgram({ ...(s as StandInSpec), delayMs }),
}).then((code) => process.exit(code));
