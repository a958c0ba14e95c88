#!/usr/bin/env bash
# Builds the images tests and a local platform use, without any registry (none is reachable here):
# a Debian base from `mmdebstrap --variant=minbase bookworm` imported into Docker, and on it
# PostgreSQL, PgBouncer, Redis, a registry, a Swarm node (Debian's Docker engine, for the multi-node
# tests), socat, the tenants' gateway (a Go binary) and the Odoo stand-in (one tag per Odoo version); Traefik FROM scratch around
# a binary built from the Go module proxy. Each tag carries a hash of its build context, so a
# warm run only checks tags. Prints `KEY=image` lines on stdout (images/images.env too).
#
# Usage: images/build.sh [--no-traefik] [--no-control-plane]      Env: ODOO_SAAS_CACHE.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[images] %s\n' "$*" >&2; }
docker_cli() { /usr/bin/docker "$@"; } # Debian's client matches Debian's daemon (see scripts/services.sh)
export DOCKER_BUILDKIT=0                # Docker 20.10's classic builder: no registry lookups for a local FROM
with_traefik=1
with_control_plane=1
for arg in "$@"; do
  case $arg in
    --no-traefik) with_traefik=0 ;;
    --no-control-plane) with_control_plane=0 ;; # the Kill Bill and API images
  esac
done
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

# Debian 13 for the API: its Node.js is 20 (Debian 12's is 18; see images/api/Dockerfile).
trixie_recipe="--variant=minbase --include=ca-certificates trixie"
trixie="odoo-saas/debian-base:trixie-$(echo "$trixie_recipe" | sha256sum | cut -c1-12)"
base_image() { # $1 = tag, $2 = recipe
  have "$1" && return 0
  log "building $1 with mmdebstrap (~30 s)"
  local started=$SECONDS
  # shellcheck disable=SC2086 # the recipe is a list of arguments
  mmdebstrap --quiet $2 - | docker_cli import - "$1" >/dev/null
  log "built $1 in $((SECONDS - started))s"
}

# Kill Bill: the war, the Jetty runner and the schema from scripts/ensure-killbill.sh's cache.
build_killbill() {
  local artifacts ctx tag
  artifacts=$(bash "$here/../scripts/ensure-killbill.sh" --artifacts | tail -n1)
  tag="odoo-saas/killbill:0.22.26-$( (cd "$here" && find killbill -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum "$artifacts"/*.war "$artifacts"/*.jar "$artifacts/schema.sql" | cut -d' ' -f1; echo "$base") | sha256sum | cut -c1-12)"
  if ! have "$tag"; then
    log "building $tag"
    ctx=$(mktemp -d)
    cp "$here"/killbill/* "$ctx/"
    cp "$artifacts"/killbill-profiles-killbill-*.war "$ctx/killbill.war"
    cp "$artifacts"/jetty-runner-*.jar "$ctx/jetty-runner.jar"
    cp "$artifacts/schema.sql" "$ctx/"
    docker_cli build -q --network host --build-arg "BASE=$base" -t "$tag" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$tag"
}

# The API: compiled here, with the CLI, our language host and the docker plugin the repository pins.
build_api() {
  local repo ctx tag pulumi_bin plugin
  repo=$(cd "$here/.." && pwd)
  pulumi_bin=$(bash "$repo/scripts/ensure-pulumi.sh" | tail -n1)
  plugin="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-docker-v$(node -p "require('$repo/node_modules/@pulumi/docker/package.json').version")"
  tag="odoo-saas/api:$( (cd "$repo" && find catalog components stacks automation api backup cli providers images/api \
      -type f ! -name '*.test.ts' -print0 | sort -z | xargs -0 sha256sum
    sha256sum package.json package-lock.json tsconfig.json tsconfig.build.json "$pulumi_bin/pulumi" "$plugin/pulumi-resource-docker" | cut -d' ' -f1
    echo "$trixie") | sha256sum | cut -c1-12)"
  if ! have "$tag"; then
    log "building $tag"
    ctx=$(mktemp -d)
    (cd "$repo" && npx tsc -p tsconfig.build.json --outDir "$ctx/app")
    cp "$repo/package.json" "$repo/package-lock.json" "$ctx/app/"
    # Production dependencies only, at the lock's versions (the host's npm cache makes it quick).
    (cd "$ctx/app" && npm install --omit=dev --no-audit --no-fund --loglevel=error >&2)
    cp "$repo/backup/agent.sh" "$ctx/app/backup/"
    # The tenant program's sources: its fingerprint (automation/inputs-fingerprint.ts) hashes them.
    (cd "$repo" && find components stacks/tenant providers/docker-bridge -type f \( -name '*.ts' -o -name '*.go' -o -name '*.mod' \) \
      ! -name '*.test.ts' -exec cp --parents {} "$ctx/app/" \;)
    mkdir -p "$ctx/pulumi" "$ctx/plugins"
    cp "$pulumi_bin"/pulumi "$pulumi_bin"/pulumi-language-nodejs "$pulumi_bin"/pulumi-resource-pulumi-nodejs \
      "$pulumi_bin"/dynamic-provider-preload.cjs "$ctx/pulumi/"
    cp -r "$plugin" "$ctx/plugins/"
    cp "$here/api/Dockerfile" "$ctx/"
    docker_cli build -q --network host --build-arg "BASE=$trixie" -t "$tag" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$tag"
}

# The tenants' gateway: a Go binary (build-tenant-gateway.sh) in an image of its own.
build_tenant_gateway() {
  local binary tag ctx
  binary=$(bash "$here/build-tenant-gateway.sh" | tail -n1)
  tag="odoo-saas/tenant-gateway:$(cat "$binary" "$here/tenant-gateway/Dockerfile" | sha256sum | cut -c1-12)"
  if ! have "$tag"; then
    ctx=$(mktemp -d) && cp "$here/tenant-gateway/Dockerfile" "$binary" "$ctx/"
    docker_cli build -q -t "$tag" "$ctx" >/dev/null && rm -rf "$ctx"
    log "built $tag"
  fi
  echo "$tag"
}

{
  # (An assignment on its own: a failed build then stops the script; `echo "$(…)"` would not.)
  image=$(build postgres)
  echo "ODOO_SAAS_POSTGRES_IMAGE=$image"
  image=$(build redis)
  echo "ODOO_SAAS_REDIS_IMAGE=$image"
  image=$(build pgbouncer)
  echo "ODOO_SAAS_PGBOUNCER_IMAGE=$image"
  image=$(build registry)
  echo "ODOO_SAAS_REGISTRY_IMAGE=$image"
  image=$(build swarm-node)
  echo "ODOO_SAAS_SWARM_NODE_IMAGE=$image"
  image=$(build socat)
  echo "ODOO_SAAS_SOCAT_IMAGE=$image"
  image=$(build_tenant_gateway)
  echo "ODOO_SAAS_TENANT_GATEWAY_IMAGE=$image"
  image=$(build backup-agent)
  echo "ODOO_SAAS_BACKUP_AGENT_IMAGE=$image"
  image=$(build monitoring)
  echo "ODOO_SAAS_MONITORING_IMAGE=$image"
  for v in $ODOO_VERSIONS; do
    image=$(TAG_SUFFIX="-$v" build odoo-stand-in --build-arg "ODOO_VERSION=$v")
    echo "ODOO_SAAS_ODOO_IMAGE_$v=$image"
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
  if [ $with_control_plane = 1 ]; then
    base_image "$trixie" "$trixie_recipe"
    image=$(build_killbill)
    echo "ODOO_SAAS_KILLBILL_IMAGE=$image"
    image=$(build_api)
    echo "ODOO_SAAS_API_IMAGE=$image"
  fi
} | tee "$here/images.env"
