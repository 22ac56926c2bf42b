#!/usr/bin/env bash
# Provision the test environment and write its .env. Every step is a CLI call:
#   1. `temporal-dsql-runtime certs print-acm-arns` gives the Client VPN certificate ARNs (run the
#      certs steps first, see scripts/certs.sh),
#   2. `terraform apply` in terraform/ with those ARNs (extra arguments go to terraform apply),
#   3. `temporal-dsql-runtime tf-to-env` writes the .env from the outputs.
# Environment: PKI_DIR (default ./pki), ENV_FILE (default ./.env), TF_ENDPOINT (public|vpc, default public).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
terraform_dir="${repo_root}/terraform"
pki_dir="${PKI_DIR:-./pki}"
env_file="${ENV_FILE:-./.env}"

acm_vars="$(mktemp --suffix=.tfvars)"
trap 'rm -f "${acm_vars}"' EXIT

temporal-dsql-runtime certs print-acm-arns --pki-dir "${pki_dir}" > "${acm_vars}"
terraform -chdir="${terraform_dir}" init -input=false
terraform -chdir="${terraform_dir}" apply -input=false -var-file="${acm_vars}" "$@"
temporal-dsql-runtime tf-to-env --terraform-dir "${terraform_dir}" --endpoint "${TF_ENDPOINT:-public}" --output "${env_file}"
