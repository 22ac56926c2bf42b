#!/usr/bin/env bash
# Build the pinned Go tools from Go modules into a machine-wide cache and link them into .tools/bin:
#   temporal-server, temporal-sql-tool and temporal-elasticsearch-tool (TEMPORAL_SERVER_VERSION; the tests compare our
#   schema commands with the last two), the Temporal Web UI server (ui-server) and the `temporal` CLI.
#   Idempotent: a version already built in the cache is only linked.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
server_version=$(tr -d '[:space:]' < "$repo_root/TEMPORAL_SERVER_VERSION")
# ui-server v2.42.1 is the Web UI the temporal CLI v1.5.1 embeds; newer ui-server releases need a newer Go.
ui_server_version=v2.42.1
cli_version=v1.5.1
cache_root=${TEMPORAL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/temporal-dsql-runtime}
tools_bin=$repo_root/.tools/bin

# build_tools NAME CACHE_DIR PACKAGE@VERSION=BINARY...: go install each package into CACHE_DIR once
# (GO_LDFLAGS, when set: the linker flags).
build_tools() {
  local name=$1 cache_dir=$2
  shift 2
  local wanted=() packages=() spec
  for spec in "$@"; do
    packages+=("${spec%%=*}")
    wanted+=("${spec##*=}")
  done
  local binary missing=0
  for binary in "${wanted[@]}"; do [[ -x $cache_dir/$binary ]] || missing=1; done
  if ((missing == 0)); then
    echo "$name already built in $cache_dir"
    return
  fi
  command -v go >/dev/null || { echo "error: go is not on PATH; install Go 1.26 to build $name" >&2; exit 69; }
  echo "building $name (takes minutes the first time)..."
  mkdir -p "$(dirname "$cache_dir")"
  local staging
  staging=$(mktemp -d "$(dirname "$cache_dir")/.build.XXXXXX")
  local flags=()
  [[ -z ${GO_LDFLAGS:-} ]] || flags=(-ldflags "$GO_LDFLAGS")
  if ! (cd "$staging" && GOBIN=$staging GOFLAGS=-buildvcs=false go install -v "${flags[@]}" "${packages[@]}" 2>&1 \
    | tee "$staging/build.log" | awk 'NR % 25 == 0 { print "  ... " $0; fflush() }'); then
    echo "error: building $name failed; the last lines of go's output:" >&2
    tail -n 30 "$staging/build.log" >&2
    rm -rf "$staging"
    exit 70
  fi
  mkdir -p "$cache_dir"
  local index=0 package_binary
  for spec in "$@"; do
    package_binary=$(basename "${packages[$index]%@*}")
    mv "$staging/$package_binary" "$cache_dir/${wanted[$index]}"
    index=$((index + 1))
  done
  rm -rf "$staging"
  echo "built into $cache_dir"
}

server_cache=$cache_root/temporal-$server_version
ui_cache=$cache_root/ui-server-$ui_server_version
cli_cache=$cache_root/temporal-cli-$cli_version-stamped  # "-stamped": built with its version, not 0.0.0-DEV
build_tools "temporal-server and temporal-sql-tool $server_version" "$server_cache" \
  "go.temporal.io/server/cmd/server@$server_version=temporal-server" \
  "go.temporal.io/server/cmd/tools/sql@$server_version=temporal-sql-tool"
es_tool_cache=$cache_root/temporal-elasticsearch-tool-$server_version
build_tools "temporal-elasticsearch-tool $server_version" "$es_tool_cache" \
  "go.temporal.io/server/cmd/tools/elasticsearch@$server_version=temporal-elasticsearch-tool"
build_tools "Temporal Web UI server $ui_server_version" "$ui_cache" \
  "github.com/temporalio/ui-server/v2/cmd/server@$ui_server_version=ui-server"
GO_LDFLAGS="-X github.com/temporalio/cli/temporalcli.Version=${cli_version#v}" \
  build_tools "temporal CLI $cli_version" "$cli_cache" \
  "github.com/temporalio/cli/cmd/temporal@$cli_version=temporal"

mkdir -p "$tools_bin"
ln -sf "$server_cache/temporal-server" "$tools_bin/temporal-server"
ln -sf "$server_cache/temporal-sql-tool" "$tools_bin/temporal-sql-tool"
ln -sf "$es_tool_cache/temporal-elasticsearch-tool" "$tools_bin/temporal-elasticsearch-tool"
ln -sf "$ui_cache/ui-server" "$tools_bin/ui-server"
ln -sf "$cli_cache/temporal" "$tools_bin/temporal"
gomodcache=$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")
ln -sfn "$gomodcache/go.temporal.io/server@$server_version" "$repo_root/.tools/server-module"
ln -sfn "$gomodcache/github.com/temporalio/ui-server/v2@$ui_server_version" "$repo_root/.tools/ui-server-module"
echo "temporal-server: $tools_bin/temporal-server ($("$tools_bin/temporal-server" --version))"
echo "temporal CLI: $tools_bin/temporal ($("$tools_bin/temporal" --version))"
echo "ui-server: $tools_bin/ui-server ($ui_server_version)"
