#!/usr/bin/env bash
# Usage: promote-kind.sh BEFORE_SHA. Rollback or promotion: `kind=overlays` when nothing but
# k8s/overlays changed since BEFORE_SHA (the pins; check-pins then holds them to the ledger),
# else `kind=model`, written to GITHUB_OUTPUT (to stdout when that is unset).
set -euo pipefail

before_sha=${1:?usage: promote-kind.sh BEFORE_SHA}
if git diff --quiet "$before_sha" HEAD -- . ':!k8s/overlays'; then
  echo "only the overlays changed: the registry follows git"
  echo "kind=overlays" >> "${GITHUB_OUTPUT:-/dev/stdout}"
else
  echo "kind=model" >> "${GITHUB_OUTPUT:-/dev/stdout}"
fi
