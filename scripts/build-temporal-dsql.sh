#!/usr/bin/env bash
# Build the DSQL fork's server image from a local checkout (docker/server.Dockerfile), then the
# temporal-dsql-runtime image on top of it (docker/Dockerfile), for one architecture with docker buildx.
#
#   scripts/build-temporal-dsql.sh ../temporal-dsql          # this machine's architecture
#   scripts/build-temporal-dsql.sh ../temporal-dsql arm64    # or amd64 (TARGET_ARCH=arm64 works too)
#
# Environment: SERVER_IMAGE (default temporal-dsql:latest), RUNTIME_IMAGE (default temporal-dsql-runtime:latest).
# Both images are loaded into the local image store (--load), and the second build starts FROM the first, so the
# buildx builder must read that store: the default `docker` driver does (a docker-container builder does not).
# Building for the other architecture needs QEMU binfmt for the final stages' `apk add`; Go cross-compiles.
set -euo pipefail

usage() {
  echo "usage: $0 FORK_CHECKOUT [amd64|arm64]" >&2
  exit 2
}

normalize_arch() {
  case $1 in
    amd64 | x86_64) echo amd64 ;;
    arm64 | aarch64) echo arm64 ;;
    *) return 1 ;;
  esac
}

[[ $# -ge 1 && $# -le 2 ]] || usage
checkout=$1
requested_arch=${2:-${TARGET_ARCH:-$(uname -m)}}
if ! arch=$(normalize_arch "$requested_arch"); then
  echo "error: architecture '$requested_arch' is not supported; accepts amd64 or arm64" >&2
  exit 2
fi
if [[ ! -f $checkout/go.mod || ! -d $checkout/cmd/server ]]; then
  echo "error: $checkout is not a checkout of the temporal server fork (needs go.mod and cmd/server)" >&2
  exit 2
fi
if ! command -v docker >/dev/null; then
  echo "error: docker is not on PATH" >&2
  exit 69
fi

repo_root=$(cd "$(dirname "$0")/.." && pwd)
server_image=${SERVER_IMAGE:-temporal-dsql:latest}
runtime_image=${RUNTIME_IMAGE:-temporal-dsql-runtime:latest}
platform=linux/$arch
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo_root/pyproject.toml" | head -n 1)
revision=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
source_url=$(git -C "$repo_root" remote get-url origin 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

echo "==> $server_image ($platform) from $checkout"
docker buildx build --platform "$platform" --load \
  --file "$repo_root/docker/server.Dockerfile" \
  --tag "$server_image" \
  "$checkout"

echo "==> $runtime_image ($platform) on $server_image"
docker buildx build --platform "$platform" --load \
  --file "$repo_root/docker/Dockerfile" \
  --build-arg "TEMPORAL_BASE_IMAGE=$server_image" \
  --build-arg "VERSION=${version:-unknown}" \
  --build-arg "REVISION=$revision" \
  --build-arg "CREATED=$created" \
  --build-arg "SOURCE_URL=$source_url" \
  --tag "$runtime_image" \
  "$repo_root"

echo "==> checking $runtime_image"
docker run --rm --platform "$platform" --entrypoint temporal-server "$runtime_image" --version
docker run --rm --platform "$platform" --entrypoint temporal-dsql-runtime "$runtime_image" healthcheck --help >/dev/null
echo "built $server_image and $runtime_image for $platform (runs as $(docker image inspect --format '{{.Config.User}}' "$runtime_image"))"
