#!/usr/bin/env bash
# Usage: promote-kind.sh BEFORE_SHA. Rollback or promotion: `kind=overlays` when nothing but
# the pins (k8s/overlays and their approvals) changed since BEFORE_SHA (the registry follows
# git), else `kind=model`, written to GITHUB_OUTPUT (to stdout when that is unset).
set -euo pipefail

before_sha=${1:?usage: promote-kind.sh BEFORE_SHA}
if git diff --quiet "$before_sha" HEAD -- . ':!k8s/overlays' ':!k8s/approvals.json'; then
  echo "only the overlays changed: the registry follows git"
  echo "kind=overlays" >> "${GITHUB_OUTPUT:-/dev/stdout}"
else
  echo "kind=model" >> "${GITHUB_OUTPUT:-/dev/stdout}"
fi
