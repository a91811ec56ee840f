#!/usr/bin/env bash
# Usage: dvc-push.sh [REMOTE]. Pushes the pipeline's outputs and run cache to REMOTE (default:
# `pr`, the PR-scoped remote, when DVC_PR_REMOTE_URL is set); a PR run never pushes to the
# trusted remote, and without a remote there is nothing to push.
set -euo pipefail

remote=${1:-pr}
if [ "$remote" = pr ] && [ -z "${DVC_PR_REMOTE_URL:-}" ]; then
  echo "no PR-scoped DVC remote: nothing to push"
  exit 0
fi
dvc push --run-cache --remote "$remote"
