#!/usr/bin/env bash
# Create or upgrade the Temporal schema on Aurora DSQL: a thin wrapper around `temporal-dsql-runtime schema setup`.
# Settings come from the environment (or --env-file .env, as written by scripts/terraform-to-env.sh).
set -euo pipefail

exec temporal-dsql-runtime schema setup "$@"
