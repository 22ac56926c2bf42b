#!/usr/bin/env bash
# Client VPN certificates: a thin wrapper around `temporal-dsql-runtime certs`.
#   scripts/certs.sh init && scripts/certs.sh create-root-ca && scripts/certs.sh create-server
#   scripts/certs.sh create-client alice && scripts/certs.sh verify
#   scripts/certs.sh acm-import-server && scripts/certs.sh acm-import-root && scripts/certs.sh print-acm-arns
set -euo pipefail

exec temporal-dsql-runtime certs "$@"
