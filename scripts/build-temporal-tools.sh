#!/usr/bin/env bash
# Build temporal-server and temporal-sql-tool at the pinned version (TEMPORAL_SERVER_VERSION) from Go modules.
# Idempotent: a version already built in the machine-wide cache is only linked into .tools/bin.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$repo_root/TEMPORAL_SERVER_VERSION")
cache_dir=${TEMPORAL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/temporal-dsql-runtime}/temporal-$version
tools_bin=$repo_root/.tools/bin

if [[ -x $cache_dir/temporal-server && -x $cache_dir/temporal-sql-tool ]]; then
  echo "temporal-server $version already built in $cache_dir"
else
  command -v go >/dev/null || { echo "error: go is not on PATH; install Go 1.26 to build temporal-server" >&2; exit 69; }
  echo "building temporal-server and temporal-sql-tool $version (takes minutes the first time)..."
  mkdir -p "$(dirname "$cache_dir")"
  staging=$(mktemp -d "$(dirname "$cache_dir")/.build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  if ! (cd "$staging" && GOBIN=$staging GOFLAGS=-buildvcs=false \
    go install -v "go.temporal.io/server/cmd/server@$version" "go.temporal.io/server/cmd/tools/sql@$version" 2>&1 \
    | tee "$staging/build.log" | awk 'NR % 25 == 0 { print "  ... " $0; fflush() }'); then
    echo "error: building temporal-server $version failed; the last lines of go's output:" >&2
    tail -n 30 "$staging/build.log" >&2
    exit 70
  fi
  mkdir -p "$cache_dir"
  mv "$staging/server" "$cache_dir/temporal-server"
  mv "$staging/sql" "$cache_dir/temporal-sql-tool"
  echo "built into $cache_dir"
fi

mkdir -p "$tools_bin"
ln -sf "$cache_dir/temporal-server" "$tools_bin/temporal-server"
ln -sf "$cache_dir/temporal-sql-tool" "$tools_bin/temporal-sql-tool"
ln -sfn "$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")/go.temporal.io/server@$version" "$repo_root/.tools/server-module"
echo "temporal-server: $tools_bin/temporal-server ($("$tools_bin/temporal-server" --version))"
