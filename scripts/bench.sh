#!/usr/bin/env bash
# Runs one benchmark (a TypeScript file under bench/) on a prepared machine: `npm run bench:<name>`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
script=$1; shift
exec node -r ts-node/register/transpile-only "$script" "$@"
