#!/usr/bin/env bash
# Usage: promote-check.sh. Checks that the secrets promotion needs are set (env DVC_REMOTE_URL,
# MLFLOW_TRACKING_URI, ANGLER_MODEL_STORE: the shared DVC remote, MLflow registry and model store;
# exits 1 on the first one missing), then makes DVC_REMOTE_URL the default DVC remote `ci`.
set -euo pipefail

for name in DVC_REMOTE_URL MLFLOW_TRACKING_URI ANGLER_MODEL_STORE; do
  if [ -z "${!name:-}" ]; then
    echo "::error::secret $name is not set: promotion needs the shared DVC remote, MLflow registry and model store"
    exit 1
  fi
done
dvc remote add --local --default --force ci "$DVC_REMOTE_URL"
dvc remote modify --local ci verify true
