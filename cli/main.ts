#!/usr/bin/env node
// The `odoo-saas` command (package.json bin).
import { runCli } from "./cli";

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  terminal: process.stderr.isTTY ? process.stderr : undefined,
}).then((code) => process.exit(code));
