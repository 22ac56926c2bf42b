#!/usr/bin/env bash
# The main job: a local Temporal cluster (all four services, one process) on SQLite, started through the launcher.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
state_dir=${TEMPORAL_DEV_STATE_DIR:-$repo_root/.tools/dev}
mkdir -p "$state_dir"

export TEMPORAL_SQL_PLUGIN_NAME=sqlite
export TEMPORAL_SQL_DATABASE=${TEMPORAL_SQL_DATABASE:-$state_dir/temporal.db}
export TEMPORAL_RUNTIME_DIR=${TEMPORAL_RUNTIME_DIR:-$state_dir/run}
export TEMPORAL_SERVER_BINARY=${TEMPORAL_SERVER_BINARY:-$repo_root/.tools/bin/temporal-server}
export BIND_ON_IP=${BIND_ON_IP:-127.0.0.1}
export TEMPORAL_LOG_LEVEL=${TEMPORAL_LOG_LEVEL:-warn}

echo "Temporal frontend: ${BIND_ON_IP}:${TEMPORAL_FRONTEND_GRPC_PORT:-7233} (namespace 'default' is created on start-up; Ctrl-C stops)"
exec "$repo_root/.venv/bin/temporal-dsql-runtime" start
