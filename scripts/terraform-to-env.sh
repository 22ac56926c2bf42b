#!/usr/bin/env bash
# Write the runtime's .env from the outputs of terraform/ (or TERRAFORM_DIR): a thin wrapper around
# `temporal-dsql-runtime tf-to-env --terraform-dir`. Extra arguments go to tf-to-env, e.g.
#   scripts/terraform-to-env.sh > .env
#   scripts/terraform-to-env.sh --endpoint vpc --output .env
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

exec temporal-dsql-runtime tf-to-env --terraform-dir "${TERRAFORM_DIR:-${repo_root}/terraform}" "$@"
