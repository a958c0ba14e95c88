#!/usr/bin/env bash
# Builds the images tests and a local platform use, without any registry (none is reachable here):
# a Debian base from `mmdebstrap --variant=minbase bookworm` imported into Docker, and on it
# PostgreSQL, Redis, socat and the Odoo stand-in (one tag per Odoo version); Traefik FROM scratch around
# a binary built from the Go module proxy. Each tag carries a hash of its build context, so a
# warm run only checks tags. Prints `KEY=image` lines on stdout (images/images.env too).
#
# Usage: images/build.sh [--no-traefik]      Env: ODOO_SAAS_CACHE.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[images] %s\n' "$*" >&2; }
docker_cli() { /usr/bin/docker "$@"; } # Debian's client matches Debian's daemon (see scripts/services.sh)
export DOCKER_BUILDKIT=0                # Docker 20.10's classic builder: no registry lookups for a local FROM
with_traefik=1
[ "${1:-}" = --no-traefik ] && with_traefik=0
ODOO_VERSIONS="14 15 16 17 18 19"

hash_of() { (cd "$here" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum; echo "$base") | sha256sum | cut -c1-12; }
have() { docker_cli image inspect "$1" >/dev/null 2>&1; }

base_recipe="--variant=minbase --include=ca-certificates bookworm"
base="odoo-saas/debian-base:bookworm-$(echo "$base_recipe" | sha256sum | cut -c1-12)"
if ! have "$base"; then
  command -v mmdebstrap >/dev/null || {
    log "installing mmdebstrap"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  }
  log "building $base with mmdebstrap (~30 s)"
  started=$SECONDS
  # shellcheck disable=SC2086 # the recipe is a list of arguments
  mmdebstrap --quiet $base_recipe - | docker_cli import - "$base" >/dev/null
  log "built $base in $((SECONDS - started))s"
fi

build() { # $1 = image name (= directory), then extra build args
  local dir=$1; shift
  local tag="odoo-saas/$dir:$(hash_of "$dir")${TAG_SUFFIX:-}"
  if ! have "$tag"; then
    log "building $tag"
    docker_cli build -q --network host --build-arg "BASE=$base" "$@" -t "$tag" "$here/$dir" >/dev/null
  fi
  echo "$tag"
}

{
  echo "ODOO_SAAS_POSTGRES_IMAGE=$(build postgres)"
  echo "ODOO_SAAS_REDIS_IMAGE=$(build redis)"
  echo "ODOO_SAAS_SOCAT_IMAGE=$(build socat)"
  echo "ODOO_SAAS_BACKUP_AGENT_IMAGE=$(build backup-agent)"
  for v in $ODOO_VERSIONS; do
    echo "ODOO_SAAS_ODOO_IMAGE_$v=$(TAG_SUFFIX="-$v" build odoo-stand-in --build-arg "ODOO_VERSION=$v")"
  done
  if [ $with_traefik = 1 ]; then
    binary=$(bash "$here/build-traefik.sh" | tail -n1)
    tag="odoo-saas/traefik:v3.7.13-$(cat "$binary" "$here/traefik/Dockerfile" | sha256sum | cut -c1-12)"
    if ! have "$tag"; then
      ctx=$(mktemp -d) && cp "$here/traefik/Dockerfile" "$binary" "$ctx/"
      docker_cli build -q -t "$tag" "$ctx" >/dev/null && rm -rf "$ctx"
      log "built $tag"
    fi
    echo "ODOO_SAAS_TRAEFIK_IMAGE=$tag"
  fi
} | tee "$here/images.env"
