#!/usr/bin/env bash
# Package prebuilt binaries into the project's images, one architecture at a time:
#   server  (docker/server.Dockerfile): temporal-server and its tools on Debian bookworm
#   runtime (docker/Dockerfile): the server image plus this project's launcher (venv from the locked wheels)
#   ui      (docker/ui.Dockerfile, only with --ui-server): the Temporal Web UI server
# Each build gets a staged context holding only what its Dockerfile copies: binaries under <arch>/, the schema
# tree, the lock's wheels for <arch> (downloaded here, on the host, hash-checked) and this project's wheel.
#
#   scripts/build-images.sh --server-bin DIR --schema DIR [--arch amd64|arm64] [--ui-server FILE --ui-config DIR]
#
# Environment: BASE_IMAGE (default: the Dockerfiles' pinned public Debian image), SERVER_IMAGE, RUNTIME_IMAGE,
# UI_IMAGE (tags), DRY_RUN=1 (print the docker commands instead of running them), DOCKER_CLI (a docker CLI with
# BuildKit: `buildx` when it has it, else Debian's docker.io CLI with DOCKER_BUILDKIT=1).
set -euo pipefail

usage() {
  echo "usage: $0 --server-bin DIR --schema DIR [--arch amd64|arm64] [--ui-server FILE --ui-config DIR]" >&2
  exit 2
}
fail() {
  echo "error: $1" >&2
  exit "${2:-2}"
}

repo_root=$(cd "$(dirname "$0")/.." && pwd)
server_bin="" schema="" arch="" ui_server="" ui_config=""
while (($#)); do
  case $1 in
    --server-bin) server_bin=${2:-}; shift 2 || usage ;;
    --schema) schema=${2:-}; shift 2 || usage ;;
    --arch) arch=${2:-}; shift 2 || usage ;;
    --ui-server) ui_server=${2:-}; shift 2 || usage ;;
    --ui-config) ui_config=${2:-}; shift 2 || usage ;;
    *) usage ;;
  esac
done
[[ -n $server_bin && -n $schema ]] || usage
case ${arch:-$(uname -m)} in
  amd64 | x86_64) arch=amd64 wheel_machine=x86_64 ;;
  arm64 | aarch64) arch=arm64 wheel_machine=aarch64 ;;
  *) fail "--arch '$arch' is not supported; accepts amd64 or arm64" ;;
esac
for binary in temporal-server temporal-sql-tool; do
  [[ -x $server_bin/$binary ]] || fail "--server-bin: $server_bin/$binary is missing or not executable"
done
[[ -d $schema/postgresql || -d $schema/dsql ]] || fail "--schema: $schema has no postgresql/ or dsql/ schema tree"
if [[ -n $ui_server || -n $ui_config ]]; then
  [[ -x $ui_server ]] || fail "--ui-server: '$ui_server' is missing or not executable"
  [[ -f $ui_config/docker.yaml ]] || fail "--ui-config: '$ui_config' has no docker.yaml"
fi

server_image=${SERVER_IMAGE:-temporal-dsql-server:latest}
runtime_image=${RUNTIME_IMAGE:-temporal-dsql-runtime:latest}
ui_image=${UI_IMAGE:-temporal-dsql-ui:latest}
base_args=()
[[ -n ${BASE_IMAGE:-} ]] && base_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE")

docker_cli=${DOCKER_CLI:-docker}
if [[ -n ${DRY_RUN:-} ]]; then
  build=(docker buildx build --load)
elif "$docker_cli" buildx version >/dev/null 2>&1; then
  build=("$docker_cli" buildx build --load)
elif [[ -x /usr/bin/docker ]]; then
  build=(env DOCKER_BUILDKIT=1 /usr/bin/docker build)
else
  fail "no docker CLI with BuildKit: install buildx, or Debian's docker.io (/usr/bin/docker)" 69
fi
run() {
  if [[ -n ${DRY_RUN:-} ]]; then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    "$@"
  fi
}

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

echo "==> staging the server context ($arch)" >&2
mkdir -p "$context/server/$arch"
cp "$server_bin/temporal-server" "$server_bin/temporal-sql-tool" "$context/server/$arch/"
[[ -x $server_bin/temporal-dsql-tool ]] && cp "$server_bin/temporal-dsql-tool" "$context/server/$arch/"
cp -R "$schema" "$context/server/schema"

echo "==> staging the runtime context: locked wheels for $wheel_machine, this project's wheel" >&2
mkdir -p "$context/runtime/wheels"
cp "$repo_root/docker/trim_botocore.py" "$context/runtime/"
(
  cd "$repo_root"
  # To stdout: with --output-file the file's header would name the temporary path, defeating Docker's cache.
  uv export --frozen --no-dev --no-emit-project --quiet >"$context/runtime/requirements.txt"
  platforms=()
  for glibc in 2_36 2_35 2_34 2_28 2_27 2_26 2_24 2_17 2_12 2_5; do
    platforms+=(--platform "manylinux_${glibc}_$wheel_machine")
  done
  platforms+=(--platform "manylinux2014_$wheel_machine")
  uv run --frozen --quiet pip download --quiet --no-deps --require-hashes --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none "${platforms[@]}" \
    --requirement "$context/runtime/requirements.txt" --dest "$context/runtime/wheels"
  uv build --wheel --quiet --out-dir "$context/runtime/wheels"
)

if [[ -n $ui_server ]]; then
  mkdir -p "$context/ui/$arch" "$context/ui/config"
  cp "$ui_server" "$context/ui/$arch/ui-server"
  cp "$ui_config/docker.yaml" "$context/ui/config/"
  if [[ -f $ui_config/base.yaml ]]; then cp "$ui_config/base.yaml" "$context/ui/config/"; fi
fi

platform=linux/$arch
echo "==> $server_image ($platform)" >&2
run "${build[@]}" --platform "$platform" "${base_args[@]}" --file "$repo_root/docker/server.Dockerfile" \
  --tag "$server_image" "$context/server"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo_root/pyproject.toml" | head -n 1)
echo "==> $runtime_image ($platform) on $server_image" >&2
run "${build[@]}" --platform "$platform" --file "$repo_root/docker/Dockerfile" \
  --build-arg "TEMPORAL_BASE_IMAGE=$server_image" \
  --build-arg "VERSION=${version:-unknown}" \
  --build-arg "REVISION=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --build-arg "SOURCE_URL=$(git -C "$repo_root" remote get-url origin 2>/dev/null || echo unknown)" \
  --tag "$runtime_image" "$context/runtime"

if [[ -n $ui_server ]]; then
  echo "==> $ui_image ($platform)" >&2
  run "${build[@]}" --platform "$platform" "${base_args[@]}" --file "$repo_root/docker/ui.Dockerfile" \
    --tag "$ui_image" "$context/ui"
fi

[[ -n ${DRY_RUN:-} ]] && exit 0
size() { "$docker_cli" image inspect --format '{{.Size}}' "$1"; }
megabytes() { awk -v bytes="$1" 'BEGIN { printf "%.1f MB", bytes / 1000000 }'; }
server_size=$(size "$server_image")
runtime_size=$(size "$runtime_image")
echo "$server_image: $(megabytes "$server_size")"
echo "$runtime_image: $(megabytes "$runtime_size"), runtime layer (above $server_image): $(megabytes $((runtime_size - server_size)))"
[[ -n $ui_server ]] && echo "$ui_image: $(megabytes "$(size "$ui_image")")"
exit 0
