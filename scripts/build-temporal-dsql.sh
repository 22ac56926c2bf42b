#!/usr/bin/env bash
# Build the DSQL fork's binaries from a local checkout for one architecture (Go cross-compiles: GOOS=linux,
# GOARCH=amd64|arm64, CGO off), then package them with the same Dockerfiles as every other build
# (scripts/build-images.sh: docker/server.Dockerfile, then docker/Dockerfile on top).
#
#   scripts/build-temporal-dsql.sh ../temporal-dsql          # this machine's architecture
#   scripts/build-temporal-dsql.sh ../temporal-dsql arm64    # or amd64 (TARGET_ARCH=arm64 works too)
#
# Binaries go to $BUILD_DIR/<arch>/ (default: the checkout's build/, the layout of Temporal's own image builds).
# Environment: BUILD_DIR, SERVER_IMAGE (default temporal-dsql-server:latest), RUNTIME_IMAGE (default
# temporal-dsql-runtime:latest), BASE_IMAGE, DRY_RUN=1 (compile, stage, and print the docker commands only).
# An image for another architecture than the engine's needs QEMU binfmt for the Dockerfiles' `apt-get` steps.
set -euo pipefail

usage() {
  echo "usage: $0 FORK_CHECKOUT [amd64|arm64]" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
checkout=$1
requested_arch=${2:-${TARGET_ARCH:-$(uname -m)}}
case $requested_arch in
  amd64 | x86_64) arch=amd64 ;;
  arm64 | aarch64) arch=arm64 ;;
  *)
    echo "error: architecture '$requested_arch' is not supported; accepts amd64 or arm64" >&2
    exit 2
    ;;
esac
if [[ ! -f $checkout/go.mod || ! -d $checkout/cmd/server || ! -d $checkout/schema ]]; then
  echo "error: $checkout is not a checkout of the temporal server fork (needs go.mod, cmd/server and schema/)" >&2
  exit 2
fi
command -v go >/dev/null || { echo "error: go is not on PATH; install Go 1.26 to build the fork" >&2; exit 69; }
if [[ -z ${DRY_RUN:-} ]] && ! command -v docker >/dev/null; then
  echo "error: docker is not on PATH" >&2
  exit 69
fi

repo_root=$(cd "$(dirname "$0")/.." && pwd)
checkout=$(cd "$checkout" && pwd)
out=${BUILD_DIR:-$checkout/build}/$arch
mkdir -p "$out"
out=$(cd "$out" && pwd)
tools=(server=temporal-server tools/sql=temporal-sql-tool)
[[ -d $checkout/cmd/tools/dsql ]] && tools+=(tools/dsql=temporal-dsql-tool)

for tool in "${tools[@]}"; do
  echo "==> go build ./cmd/${tool%%=*} (linux/$arch) -> $out/${tool##*=}" >&2
  (cd "$checkout" && GOOS=linux GOARCH=$arch CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags="-s -w" -o "$out/${tool##*=}" "./cmd/${tool%%=*}")
done

export SERVER_IMAGE=${SERVER_IMAGE:-temporal-dsql-server:latest}
export RUNTIME_IMAGE=${RUNTIME_IMAGE:-temporal-dsql-runtime:latest}
bash "$repo_root/scripts/build-images.sh" --server-bin "$out" --schema "$checkout/schema" --arch "$arch"
[[ -n ${DRY_RUN:-} ]] && exit 0

echo "==> checking $RUNTIME_IMAGE" >&2
docker run --rm --entrypoint temporal-server "$RUNTIME_IMAGE" --version
docker run --rm --entrypoint temporal-dsql-runtime "$RUNTIME_IMAGE" healthcheck --help >/dev/null
echo "built $SERVER_IMAGE and $RUNTIME_IMAGE for linux/$arch (runs as $(docker image inspect --format '{{.Config.User}}' "$RUNTIME_IMAGE"))"
