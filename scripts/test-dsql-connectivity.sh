#!/usr/bin/env bash
# Check DNS, TCP, TLS, IAM auth, SQL, schema and visibility in order: a thin wrapper around
# `temporal-dsql-runtime doctor`. Settings come from the environment (or --env-file .env).
set -euo pipefail

exec temporal-dsql-runtime doctor "$@"
