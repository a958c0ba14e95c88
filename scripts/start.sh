#!/usr/bin/env bash
# The main job with embedded local defaults: prepares the machine, then starts the API.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
exec npm start --silent
